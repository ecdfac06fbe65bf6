package prefect

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// prefect422 is the shape of Prefect's own validation answer, as captured.
const prefect422 = `{"exception_message":"Invalid request received.","exception_detail":[{"type":"enum","loc":["body","flow_runs","state","type","any_",0],"msg":"Input should be 'SCHEDULED', 'PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'CRASHED', 'PAUSED' or 'CANCELLING'","input":"DONE","ctx":{"expected":"'SCHEDULED'"}},{"type":"less_than_equal","loc":["body","limit"],"msg":"Input should be less than or equal to 200","input":500}],"request_body":{"flow_runs":{"state":{"type":{"any_":["DONE"]}}},"limit":500}}`

// fastAPI422 is FastAPI's default validation answer.
const fastAPI422 = `{"detail":[{"type":"extra_forbidden","loc":["body","flow_runs","nme"],"msg":"Extra inputs are not permitted","input":{"any_":["x"]}}]}`

func TestParseErrorDetail(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"detail string", `{"detail":"Flow run not found"}`, "Flow run not found"},
		{"prefect 422", prefect422, "Invalid request received.: body.flow_runs.state.type.any_.0: Input should be 'SCHEDULED', 'PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED', 'CRASHED', 'PAUSED' or 'CANCELLING' (enum); body.limit: Input should be less than or equal to 200 (less_than_equal)"},
		{"fastapi 422", fastAPI422, "body.flow_runs.nme: Extra inputs are not permitted (extra_forbidden)"},
		{"exception message only", `{"exception_message":"Unauthorized"}`, "Unauthorized"},
		{"detail object", `{"detail":{"reason":"quota", "n": 2}}`, `{"reason":"quota","n":2}`},
		{"list item without loc", `{"detail":[{"msg":"bad","type":"value_error"}]}`, "bad (value_error)"},
		{"json string", `"Service Unavailable"`, "Service Unavailable"},
		{"unknown json object", `{"error":"nope"}`, `{"error":"nope"}`},
		{"html title", "<html><head><title>502 Bad Gateway</title></head><body><h1>nginx</h1></body></html>", "502 Bad Gateway"},
		{"html without title", "<html><body><h1>Service\n\n  Unavailable</h1><p>try later</p></body></html>", "Service Unavailable try later"},
		{"plain text", "upstream connect error\r\nor disconnect", "upstream connect error or disconnect"},
		{"control characters", "bad\x00\x1b[31m thing\x7f", "bad[31m thing"},
		{"invalid utf8", "bad \xff\xfe bytes", "bad bytes"},
		{"empty", "", ""},
		{"whitespace", " \n\t", ""},
		{"null detail", `{"detail":null}`, `{"detail":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseErrorDetail([]byte(tt.body)); got != tt.want {
				t.Errorf("parseErrorDetail(%q)\n got %q\nwant %q", tt.body, got, tt.want)
			}
		})
	}
}

func TestParseErrorDetailBounds(t *testing.T) {
	long := `{"detail":"` + strings.Repeat("é", 2000) + `"}`
	got := parseErrorDetail([]byte(long))
	if len(got) > maxDetailBytes || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
		t.Fatalf("long detail not bounded on a rune boundary: %d bytes, valid=%v", len(got), utf8.ValidString(got))
	}
	html := "<html><body>" + strings.Repeat("<p>lorem ipsum</p>", 500) + "</body></html>"
	if got := parseErrorDetail([]byte(html)); len(got) > maxExcerptBytes {
		t.Fatalf("HTML excerpt is %d bytes", len(got))
	}
	items := strings.Repeat(`{"loc":["body","x"],"msg":"bad","type":"t"},`, 500)
	if got := parseErrorDetail([]byte(`{"detail":[` + strings.TrimSuffix(items, ",") + `]}`)); len(got) > maxDetailBytes {
		t.Fatalf("validation list not bounded: %d bytes", len(got))
	}
}

func FuzzParseErrorDetail(f *testing.F) {
	for _, seed := range []string{prefect422, fastAPI422, `{"detail":"x"}`, "<title>t</title>", "plain", `{"detail":[1,2]}`, `{"exception_detail":{"a":1}}`, "\xff<"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got := parseErrorDetail(body)
		if len(got) > maxDetailBytes {
			t.Fatalf("detail is %d bytes", len(got))
		}
		if !utf8.ValidString(got) {
			t.Fatalf("detail is not valid UTF-8: %q", got)
		}
		for _, r := range got {
			if r != ' ' && (unicode.IsSpace(r) || !unicode.IsPrint(r)) {
				t.Fatalf("detail holds %U: %q", r, got)
			}
		}
	})
}

func TestErrorResponsesFromServer(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		wantDetail string
	}{
		{"prefect 422", 422, prefect422, "body.flow_runs.state.type.any_.0: Input should be 'SCHEDULED'"},
		{"fastapi 422", 422, fastAPI422, "body.flow_runs.nme: Extra inputs are not permitted (extra_forbidden)"},
		{"404", 404, `{"detail":"Flow run not found"}`, "Flow run not found"},
		{"401", 401, `{"exception_message":"Unauthorized"}`, "Unauthorized"},
		{"proxy html", 502, "<html><title>502 Bad Gateway</title></html>", "502 Bad Gateway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := scriptedServer(t, step{status: tt.status, body: tt.body})
			c := newTestClient(t, srv.URL+"/api", nil, func(cfg *Config) { cfg.Retry.MaxAttempts = 1 })
			err := c.Post(context.Background(), "/flow_runs/filter", map[string]any{"limit": 500}, nil)
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.Status != tt.status || !strings.Contains(apiErr.Detail, tt.wantDetail) {
				t.Fatalf("got %v, want status %d with detail containing %q", err, tt.status, tt.wantDetail)
			}
			if strings.Contains(apiErr.Detail, "request_body") || strings.Contains(apiErr.Detail, `"limit":500`) {
				t.Fatalf("detail echoes the request body: %q", apiErr.Detail)
			}
			if StatusOf(err) != tt.status || IsNotFound(err) != (tt.status == 404) {
				t.Fatalf("StatusOf = %d, IsNotFound = %v for %d", StatusOf(err), IsNotFound(err), tt.status)
			}
			want := "prefect API: POST /flow_runs/filter: " + strconv.Itoa(tt.status) + " " + http.StatusText(tt.status) + ": "
			if !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("Error() = %q, want prefix %q", err.Error(), want)
			}
		})
	}
}

func TestStatusOfOtherErrors(t *testing.T) {
	for _, err := range []error{nil, errors.New("x"), &TransportError{Kind: KindRefused}, &WriteRefusedError{}} {
		if StatusOf(err) != 0 || IsNotFound(err) {
			t.Errorf("StatusOf(%v) = %d", err, StatusOf(err))
		}
	}
	wrapped := fmt.Errorf("listing pools: %w", &APIError{Status: 404})
	if !IsNotFound(wrapped) {
		t.Error("a wrapped 404 is not found")
	}
}

// TestNotFoundIsTheAPIsAnswer: only Prefect saying an object is missing is
// "not found"; an HTML 404 or a path no route matches (a URL without /api)
// is the URL's fault, and tools must not answer "check the id" for it.
func TestNotFoundIsTheAPIsAnswer(t *testing.T) {
	html := http.Header{"Content-Type": {"text/html;charset=utf-8"}}
	for _, tc := range []struct {
		name string
		step step
		want bool
	}{
		{"missing flow run", step{status: 404, body: `{"detail":"Flow run not found"}`}, true},
		{"missing work pool", step{status: 404, body: `{"detail":"Work pool \"x\" not found."}`}, true},
		{"ObjectNotFoundError", step{status: 404, body: `{"exception_message":"Variable not found."}`}, true},
		{"no body", step{status: 404}, true},
		{"no route matches", step{status: 404, body: `{"detail":"Not Found"}`}, false},
		{"python -m http.server", step{status: 404, header: html, body: "<!DOCTYPE HTML><title>Error response</title><p>Error code: 404"}, false},
		{"another status", step{status: 500, body: `{"detail":"Flow run not found"}`}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := scriptedServer(t, tc.step)
			c := newTestClient(t, srv.URL+"/api", nil, func(cfg *Config) { cfg.Retry.MaxAttempts = 1 })
			err := c.Get(context.Background(), "/flow_runs/x", nil, nil)
			if err == nil || IsNotFound(err) != tc.want {
				t.Errorf("IsNotFound(%v) = %v, want %v", err, IsNotFound(err), tc.want)
			}
		})
	}
}

// TestHTMLAnswersAreFlagged: an HTML page where the API's JSON belongs (the
// UI, a login proxy, a static file server) is marked, whatever its status.
func TestHTMLAnswersAreFlagged(t *testing.T) {
	cases := []struct {
		name, contentType, body string
		status                  int
		want                    bool
	}{
		{"UI page", "text/html; charset=utf-8", "<!doctype html><title>Prefect</title>", 200, true},
		{"login page", "text/html", "<html>sign in</html>", 401, true},
		{"http.server 501", "text/html;charset=utf-8", "<!DOCTYPE HTML><title>Error response</title>", 501, true},
		{"untyped page", "", "  <html></html>", 200, true},
		{"Prefect JSON error", "application/json", `{"detail":"Not Found"}`, 404, false},
		{"JSON typed, odd body", "application/json", `<not json>`, 500, false},
		{"plain text", "text/plain", "Internal Server Error", 500, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.contentType != "" {
					w.Header().Set("Content-Type", tc.contentType)
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			c := newTestClient(t, srv.URL+"/api", srv.Client(), func(cfg *Config) { cfg.Retry.MaxAttempts = 1 })
			var out map[string]any
			err := c.Get(context.Background(), "/flows/x", nil, &out)
			var api *APIError
			var resp *ResponseError
			got := false
			switch {
			case errors.As(err, &api):
				got = api.HTML
			case errors.As(err, &resp):
				got = resp.HTML
			default:
				t.Fatalf("err = %v", err)
			}
			if got != tc.want {
				t.Errorf("HTML = %v, want %v (%v)", got, tc.want, err)
			}
		})
	}
}
