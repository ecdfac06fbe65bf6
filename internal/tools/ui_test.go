package tools

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prefect-mcp/prefect-mcp/internal/target"
)

// uiRoutePatterns turns the UI's TanStack file routes into path regexps:
// "runs/flow-run.$id.tsx" matches "/runs/flow-run/<x>"; "_" suffixes mark
// pathless layouts and "index" the directory itself.
func uiRoutePatterns(t *testing.T) []*regexp.Regexp {
	t.Helper()
	f, err := os.Open("testdata/ui-v2-routes.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []*regexp.Regexp
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "__") {
			continue
		}
		var segs []string
		for _, part := range strings.Split(strings.TrimSuffix(line, ".tsx"), "/") {
			for _, seg := range strings.Split(part, ".") {
				seg = strings.TrimSuffix(seg, "_")
				switch {
				case seg == "index" || seg == "route" || seg == "":
				case strings.HasPrefix(seg, "$"):
					segs = append(segs, `[^/]+`)
				default:
					segs = append(segs, regexp.QuoteMeta(seg))
				}
			}
		}
		out = append(out, regexp.MustCompile(`^/`+strings.Join(segs, "/")+`$`))
	}
	return out
}

func TestUILinksMatchTheUIRouter(t *testing.T) {
	patterns := uiRoutePatterns(t)
	c := &call{target: &target.Target{UIURL: "http://127.0.0.1:4200"}}
	for _, route := range []string{uiFlowRun, uiTaskRun, uiDeployment, uiFlow, uiWorkPool, uiAutomation} {
		link := c.uiURL(route, "my pool/1")
		path := strings.TrimPrefix(link, "http://127.0.0.1:4200")
		matched := false
		for _, p := range patterns {
			matched = matched || p.MatchString(path)
		}
		if !matched {
			t.Errorf("%s: no Prefect UI route matches %s", route, path)
		}
	}
	if (&call{target: &target.Target{}}).uiURL(uiFlowRun, "x") != "" || (&call{target: &target.Target{}}).uiURLTemplate(uiFlowRun) != "" {
		t.Error("a link without a known UI base")
	}
	// A list's ui_url_template, its {id} replaced by a row's id, is the
	// row's link.
	id := "0f3a6c1e-8d2b-4c7a-9e1f-5b6d7c8e9f00"
	for _, base := range []string{"http://127.0.0.1:4200/", "https://app.prefect.cloud/account/a/workspace/w"} {
		c := &call{target: &target.Target{UIURL: base}}
		if got := strings.Replace(c.uiURLTemplate(uiDeployment), "{id}", id, 1); got != c.uiURL(uiDeployment, id) {
			t.Errorf("template gives %s, link is %s", got, c.uiURL(uiDeployment, id))
		}
	}
}
