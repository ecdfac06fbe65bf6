package tenant

import (
	"net/http"
	"strings"
	"testing"
)

func TestKey(t *testing.T) {
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	a, b := Key("", hdr("X-Prefect-Api-Key", "pnu_secretA")), Key("", hdr("X-Prefect-Api-Key", "pnu_secretB"))
	switch {
	case a == b || a == Key("", nil):
		t.Error("different credentials share a tenant")
	case a != Key("", hdr("X-Prefect-Api-Key", "pnu_secretA")):
		t.Error("the same credential is two tenants")
	case Key("", hdr("Authorization", "Bearer t1")) == Key("", hdr("Authorization", "Bearer t2")):
		t.Error("different bearer tokens share a tenant")
	case Key("u1", nil) == Key("u2", nil):
		t.Error("different principals share a tenant")
	case Key("alice", hdr("X-Prefect-Api-Key", "pnu_1")) != Key("alice", hdr("X-Prefect-Api-Key", "pnu_2")):
		t.Error("one principal is several tenants by varying X-Prefect-Api-Key")
	case Key("alice", nil) == Key("", nil):
		t.Error("a principal shares a tenant with callers on the server's credentials")
	case strings.Contains(a, "secretA") || len(a) != 32:
		t.Errorf("tenant key %q", a)
	}
}
