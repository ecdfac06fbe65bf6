package prefect

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"
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
		{"AnyOf", AnyOf("a", "b"), `{"any_":["a","b"]}`},
		{"AnyOf any", AnyOf[any]("a"), `{"any_":["a"]}`},
		{"NoneOf", NoneOf("Late"), `{"not_any_":["Late"]}`},
		{"AllOf", AllOf("prod"), `{"all_":["prod"]}`},
		{"Like", Like("etl"), `{"like_":"etl"}`},
		{"IsNull", IsNull(false), `{"is_null_":false}`},
		{"AtLeast", AtLeast(30), `{"ge_":30}`},
		{"After", After(t0), `{"after_":"2026-03-04T04:06:07Z"}`},
		{"Before", Before(t0), `{"before_":"2026-03-04T04:06:07Z"}`},
		{"Between", Between(t0, t1), `{"after_":"2026-03-04T04:06:07Z","before_":"2026-03-04T05:36:07Z"}`},
		{"Either", Either(Where{"name": Like("x"), "tags": AllOf("x")}), `{"name":{"like_":"x"},"operator":"or_","tags":{"all_":["x"]}}`},
		{"IDIn", IDIn("i1", "i2"), `{"id":{"any_":["i1","i2"]}}`},
		{"NameIn", NameIn("n"), `{"name":{"any_":["n"]}}`},
		{"StateTypeIn", StateTypeIn("FAILED", "CRASHED"), `{"type":{"any_":["FAILED","CRASHED"]}}`},
		{"Occurred", Occurred(t0, t1), `{"since":"2026-03-04T04:06:07Z","until":"2026-03-04T05:36:07Z"}`},
		{"EventPrefix", EventPrefix("prefect.flow-run."), `{"prefix":["prefect.flow-run."]}`},
		{"EventName", EventName("a", "b"), `{"name":["a","b"]}`},
		{"ResourceID", ResourceID("prefect.flow.1"), `{"id":["prefect.flow.1"]}`},
		{"ResourceIDPrefix", ResourceIDPrefix("prefect.flow."), `{"id_prefix":["prefect.flow."]}`},
		{"a whole body", Body{
			"flow_runs": Where{"state": StateTypeIn("FAILED"), "end_time": After(t0), "start_time": IsNull(false)},
			"sort":      "END_TIME_DESC", "limit": 10,
		}, `{"flow_runs":{"end_time":{"after_":"2026-03-04T04:06:07Z"},"start_time":{"is_null_":false},"state":{"type":{"any_":["FAILED"]}}},"limit":10,"sort":"END_TIME_DESC"}`},
	} {
		if got := mustJSON(t, tc.got); got != tc.want {
			t.Errorf("%s = %s, want %s", tc.name, got, tc.want)
		}
	}
}

// Selected reads back what a caller's filter argument selects.
func TestSelected(t *testing.T) {
	var f map[string]any
	if err := json.Unmarshal([]byte(`{"name":{"any_":["a",1,"b"]},"id":{"like_":"x"}}`), &f); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(Selected(f, "name")); got != "[a b]" {
		t.Errorf("name = %s", got)
	}
	if got := Selected(f, "id"); got != nil {
		t.Errorf("id = %v, want nothing (not an any_)", got)
	}
	if got := Selected(nil, "name"); got != nil {
		t.Errorf("nil filter = %v", got)
	}
	if got := fmt.Sprint(Selected(Where{"name": AnyOf[any]("p")}, "name")); got != "[p]" {
		t.Errorf("AnyOf[any] read back = %s", got)
	}
}

// recorder is a Poster answering every read with answer and noting
// "path body" of each.
type recorder struct {
	answer string
	sent   []string
}

func (r *recorder) Post(_ context.Context, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	r.sent = append(r.sent, path+" "+string(b))
	return json.Unmarshal([]byte(r.answer), out)
}

// ByIDs, ByNames and NamesByID: one request, values deduplicated (ids
// lower-cased), never more than Prefect's page of 200, none for no values.
func TestLookups(t *testing.T) {
	ctx := context.Background()
	many := make([]string, 250)
	for i := range many {
		many[i] = fmt.Sprintf("id-%03d", i)
	}
	for _, tc := range []struct {
		name string
		read func(Poster) error
		want string // "" when no request is sent
	}{
		{"ids", func(api Poster) error {
			_, err := ByIDs[Flow](ctx, api, "flows", []string{"AB", "ab", "", "cd"})
			return err
		}, `/flows/filter {"flows":{"id":{"any_":["ab","cd"]}},"limit":2}`},
		{"names", func(api Poster) error {
			_, err := ByNames[WorkPool](ctx, api, "work_pools", []string{"Pool", "Pool", "", "pool"})
			return err
		}, `/work_pools/filter {"limit":2,"work_pools":{"name":{"any_":["Pool","pool"]}}}`},
		{"none", func(api Poster) error { _, err := ByIDs[Flow](ctx, api, "flows", []string{""}); return err }, ""},
		{"capped", func(api Poster) error { _, err := NamesByID(ctx, api, "deployments", many); return err },
			fmt.Sprintf(`/deployments/filter {"deployments":{"id":{"any_":%s}},"limit":200}`, mustJSON(t, many[:200]))},
	} {
		api := &recorder{answer: `[]`}
		if err := tc.read(api); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		switch {
		case tc.want == "" && len(api.sent) != 0:
			t.Errorf("%s: sent %v, want nothing", tc.name, api.sent)
		case tc.want != "" && (len(api.sent) != 1 || api.sent[0] != tc.want):
			t.Errorf("%s: sent %v, want %s", tc.name, api.sent, tc.want)
		}
	}
	names, err := NamesByID(ctx, &recorder{answer: `[{"id":"AB","name":"flow-ab"}]`}, "flows", []string{"ab"})
	if err != nil || names["ab"] != "flow-ab" || len(names) != 1 {
		t.Errorf("NamesByID = %v, %v; want keyed by lower-case id", names, err)
	}
}

// PostPage asks one row more than wanted, never more than 200, and at the
// cap probes the next single row.
func TestPostPage(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		limit, offset, rows int
		want                []string
		more                bool
	}{
		{limit: 10, rows: 11, more: true, want: []string{`/x {"limit":11,"offset":0,"sort":"S"}`}},
		{limit: 10, offset: 5, rows: 3, want: []string{`/x {"limit":11,"offset":5,"sort":"S"}`}},
		{limit: 200, rows: 200, more: true, want: []string{`/x {"limit":200,"offset":0,"sort":"S"}`, `/x {"limit":1,"offset":200,"sort":"S"}`}},
	} {
		rows := make([]int, tc.rows)
		api := &recorder{answer: mustJSON(t, rows)}
		got, more, err := PostPage[int](ctx, api, "/x", Body{"sort": "S"}, tc.limit, tc.offset)
		if err != nil || more != tc.more || len(got) != min(tc.rows, tc.limit) || fmt.Sprint(api.sent) != fmt.Sprint(tc.want) {
			t.Errorf("limit %d offset %d: %d rows, more %v, %v; sent %v, want %v", tc.limit, tc.offset, len(got), more, err, api.sent, tc.want)
		}
	}
	for _, limit := range []int{0, MaxLimit + 1} {
		if _, _, err := PostPage[int](ctx, &recorder{answer: `[]`}, "/x", nil, limit, 0); err == nil {
			t.Errorf("limit %d: no error", limit)
		}
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
