//go:build unix

package httpserver

import (
	"net/http"
	"syscall"
	"testing"
)

// TestDefaultConnectionLimit pushes past the default cap itself: 1024
// connections held, the next one waits, and is served once one closes.
func TestDefaultConnectionLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("holds 1025 connections")
	}
	// Both ends are in this process, plus the runtime's own descriptors.
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < 2*DefaultMaxConnections+100 {
		t.Skipf("needs %d descriptors; RLIMIT_NOFILE is %d (%v)", 2*DefaultMaxConnections+100, lim.Cur, err)
	}
	r := startServer(t, newMCPServer(nil), Options{Stateless: true})
	held := make([]*rawConn, DefaultMaxConnections)
	for i := range held {
		held[i] = dialRaw(t, r.baseURL)
		if code, _ := held[i].get(t, "/healthz"); code != http.StatusOK {
			t.Fatalf("connection %d: /healthz %d", i, code)
		}
	}
	waiting := dialRaw(t, r.baseURL)
	waiting.send(t, "/healthz")
	if !waiting.notAnswered(t) {
		t.Fatalf("connection %d was served", DefaultMaxConnections+1)
	}
	_ = held[0].Close()
	if code, _ := waiting.read(t); code != http.StatusOK {
		t.Fatalf("queued /healthz after a close: %d", code)
	}
}
