package prefect

import "testing"

func TestEventsPageToken(t *testing.T) {
	cases := []struct {
		next, token string
		ok          bool
	}{
		{"http://127.0.0.1:4200/api/events/filter/next?page-token=abc%3D", "abc=", true},
		// Another host (a proxy's inner name): only the token is reused, sent to our own API root.
		{"https://prefect-internal:4200/prefix/api/events/filter/next?page-token=xyz", "xyz", true},
		{"/api/events/filter/next?page-token=rel", "rel", true},
		{"http://127.0.0.1:4200/api/flow_runs/filter?page-token=abc", "", false},
		{"http://127.0.0.1:4200/api/events/filter/next", "", false},
		{"http://127.0.0.1:4200/api/events/filter/next/../../admin?page-token=a", "", false},
		{"::not a url", "", false},
		{"", "", false},
	}
	for _, tc := range cases {
		token, ok := EventsPageToken(tc.next)
		if token != tc.token || ok != tc.ok {
			t.Errorf("EventsPageToken(%q) = %q, %v; want %q, %v", tc.next, token, ok, tc.token, tc.ok)
		}
	}
}
