package prefecttest

import (
	"net"
	"net/http"
	"strconv"
)

// FaultKind selects how a fault breaks a response.
type FaultKind int

const (
	// FaultStatus answers Status (default 503) with Body and Retry-After.
	FaultStatus FaultKind = iota
	// FaultStall sends 200 headers, then nothing until the client gives up or
	// the server closes.
	FaultStall
	// FaultTruncate announces a longer Content-Length than it sends, then
	// closes the connection.
	FaultTruncate
	// FaultHugeBody streams Size bytes of a never-ending JSON array.
	FaultHugeBody
	// FaultReset resets the TCP connection without answering.
	FaultReset
)

// Fault breaks matching requests.
type Fault struct {
	Route      string // "METHOD /template" as in Count; "" matches every route
	Times      int    // how many matching requests it affects; 0 means all
	Kind       FaultKind
	Status     int    // FaultStatus: defaults to 503
	RetryAfter string // FaultStatus: Retry-After header value, if any
	Body       string // FaultStatus: defaults to Prefect's 503 body
	Size       int64  // FaultHugeBody: bytes to send (default 64 MiB)
}

type faultState struct {
	Fault
	used int
}

// AddFault installs a fault at run time; faults are tried in order and the
// first that still applies wins.
func (s *Server) AddFault(f Fault) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	s.faults = append(s.faults, &faultState{Fault: f})
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	s.faults = nil
}

func (s *Server) takeFault(route string) (Fault, bool) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	for _, f := range s.faults {
		if f.Route != "" && f.Route != route {
			continue
		}
		if f.Times > 0 && f.used >= f.Times {
			continue
		}
		f.used++
		return f.Fault, true
	}
	return Fault{}, false
}

// injectFault applies the first matching fault; it reports whether the
// response has been taken over.
func (s *Server) injectFault(w http.ResponseWriter, r *http.Request, route string) bool {
	f, ok := s.takeFault(route)
	if !ok {
		return false
	}
	switch f.Kind {
	case FaultStall:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
	case FaultTruncate:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "4096")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`[{"id": "01a216cc-`))
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		hijackAndClose(w, false)
	case FaultHugeBody:
		size := f.Size
		if size <= 0 {
			size = 64 << 20
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		chunk := []byte(`{"id":"00000000-0000-0000-0000-000000000000","name":"padding-padding-padding"},`)
		_, _ = w.Write([]byte("["))
		for sent := int64(1); sent < size; sent += int64(len(chunk)) {
			if _, err := w.Write(chunk); err != nil {
				return true
			}
		}
	case FaultReset:
		hijackAndClose(w, true)
	default:
		status := f.Status
		if status == 0 {
			status = http.StatusServiceUnavailable
		}
		body := f.Body
		if body == "" {
			body = `{"exception_message":"Service Unavailable"}`
		}
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
	return true
}

// hijackAndClose drops the connection; with reset it sends a TCP RST.
func hijackAndClose(w http.ResponseWriter, reset bool) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	if tcp, ok := conn.(*net.TCPConn); ok && reset {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}
