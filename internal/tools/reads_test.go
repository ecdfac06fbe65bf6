package tools

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
)

// Each word of the read vocabulary is the Prefect JSON it stands for.
func TestReadVocabulary(t *testing.T) {
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 890, time.FixedZone("CET", 3600))
	t1 := t0.Add(90 * time.Minute)
	for _, tc := range []struct {
		name string
		got  any
		want string
	}{
		{"anyOf", anyOf("a", "b"), `{"any_":["a","b"]}`},
		{"anyOf any", anyOf[any]("a"), `{"any_":["a"]}`},
		{"noneOf", noneOf("Late"), `{"not_any_":["Late"]}`},
		{"allOf", allOf("prod"), `{"all_":["prod"]}`},
		{"like", like("etl"), `{"like_":"etl"}`},
		{"isNull", isNull(false), `{"is_null_":false}`},
		{"atLeast", atLeast(30), `{"ge_":30}`},
		{"after", after(t0), `{"after_":"2026-03-04T04:06:07Z"}`},
		{"before", before(t0), `{"before_":"2026-03-04T04:06:07Z"}`},
		{"between", between(t0, t1), `{"after_":"2026-03-04T04:06:07Z","before_":"2026-03-04T05:36:07Z"}`},
		{"either", either(where{"name": like("x"), "tags": allOf("x")}), `{"name":{"like_":"x"},"operator":"or_","tags":{"all_":["x"]}}`},
		{"idIn", idIn("i1", "i2"), `{"id":{"any_":["i1","i2"]}}`},
		{"nameIn", nameIn("n"), `{"name":{"any_":["n"]}}`},
		{"stateTypeIn", stateTypeIn("FAILED", "CRASHED"), `{"type":{"any_":["FAILED","CRASHED"]}}`},
		{"occurred", occurred(t0, t1), `{"since":"2026-03-04T04:06:07Z","until":"2026-03-04T05:36:07Z"}`},
		{"eventPrefix", eventPrefix("prefect.flow-run."), `{"prefix":["prefect.flow-run."]}`},
		{"eventName", eventName("a", "b"), `{"name":["a","b"]}`},
		{"resourceID", resourceID("prefect.flow.1"), `{"id":["prefect.flow.1"]}`},
		{"resourceIDPrefix", resourceIDPrefix("prefect.flow."), `{"id_prefix":["prefect.flow."]}`},
		{"a whole body", filterBody{
			"flow_runs": where{"state": stateTypeIn("FAILED"), "end_time": after(t0), "start_time": isNull(false)},
			"sort":      "END_TIME_DESC", "limit": 10,
		}, `{"flow_runs":{"end_time":{"after_":"2026-03-04T04:06:07Z"},"start_time":{"is_null_":false},"state":{"type":{"any_":["FAILED"]}}},"limit":10,"sort":"END_TIME_DESC"}`},
	} {
		b, err := json.Marshal(tc.got)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("%s = %s, want %s", tc.name, b, tc.want)
		}
	}
}

// selected reads back what a caller's filter argument selects.
func TestSelected(t *testing.T) {
	var f map[string]any
	if err := json.Unmarshal([]byte(`{"name":{"any_":["a",1,"b"]},"id":{"like_":"x"}}`), &f); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(selected(f, "name")); got != "[a b]" {
		t.Errorf("name = %s", got)
	}
	if got := selected(f, "id"); got != nil {
		t.Errorf("id = %v, want nothing (not an any_)", got)
	}
	if got := selected(nil, "name"); got != nil {
		t.Errorf("nil filter = %v", got)
	}
	if got := fmt.Sprint(selected(selectOne("name", "p"), "name")); got != "[p]" {
		t.Errorf("selectOne read back = %s", got)
	}
}

// byIDs and byNames: one request, values deduplicated (ids lower-cased),
// never more than Prefect's page of 200, none for no values.
func TestLookups(t *testing.T) {
	var (
		mu     sync.Mutex
		bodies []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, r.URL.Path+" "+string(b))
		mu.Unlock()
		_, _ = io.WriteString(w, `[{"id":"AB","name":"flow-ab"}]`)
	}))
	defer srv.Close()
	client, err := prefect.New(prefect.Config{BaseURL: srv.URL}, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	c := &call{target: &target.Target{Client: client}}
	ctx := context.Background()
	many := make([]string, 250)
	for i := range many {
		many[i] = fmt.Sprintf("id-%03d", i)
	}
	for _, tc := range []struct {
		name string
		read func() error
		want string // "" when no request is sent
	}{
		{"ids", func() error {
			_, err := byIDs[prefect.Flow](ctx, c, "flows", []string{"AB", "ab", "", "cd"})
			return err
		},
			`/flows/filter {"flows":{"id":{"any_":["ab","cd"]}},"limit":2}`},
		{"names", func() error {
			_, err := byNames[prefect.WorkPool](ctx, c, "work_pools", []string{"Pool", "Pool", "", "pool"})
			return err
		}, `/work_pools/filter {"limit":2,"work_pools":{"name":{"any_":["Pool","pool"]}}}`},
		{"none", func() error { _, err := byIDs[prefect.Flow](ctx, c, "flows", []string{""}); return err }, ""},
		{"capped", func() error { _, err := c.namesByID(ctx, "deployments", many); return err },
			fmt.Sprintf(`/deployments/filter {"deployments":{"id":{"any_":%s}},"limit":200}`, mustJSON(t, many[:200]))},
	} {
		mu.Lock()
		bodies = nil
		mu.Unlock()
		if err := tc.read(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		mu.Lock()
		sent := bodies
		mu.Unlock()
		switch {
		case tc.want == "" && len(sent) != 0:
			t.Errorf("%s: sent %v, want nothing", tc.name, sent)
		case tc.want != "" && (len(sent) != 1 || sent[0] != tc.want):
			t.Errorf("%s: sent %v, want %s", tc.name, sent, tc.want)
		}
	}
	names, err := c.namesByID(ctx, "flows", []string{"ab"})
	if err != nil || names["ab"] != "flow-ab" || len(names) != 1 {
		t.Errorf("namesByID = %v, %v; want keyed by lower-case id", names, err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
