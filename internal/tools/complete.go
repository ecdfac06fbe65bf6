package tools

import (
	"context"
	"sort"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.opentelemetry.io/otel/attribute"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

// Completion suggests flow-run, deployment, work-pool and automation names
// for prompt arguments and resource template variables. Each suggestion
// costs a constant number of upstream requests (one, two for deployments,
// which need their flows' names), whatever the workspace holds.

const (
	// maxCompletions is how many values one answer holds (the protocol's
	// limit is 100; a client shows a short list).
	maxCompletions = 20
	// maxCompleteValue bounds the typed value that is matched.
	maxCompleteValue = 100
)

// sinceSuggestions are relative periods review_rate_limits takes.
func sinceSuggestions() []string { return []string{"-1h", "-6h", "-24h", "-3d", "-7d"} }

// completer answers completion/complete for the offered prompts and
// resource templates.
type completer struct {
	d         *Deps
	offered   Offered
	prompts   []promptDef
	resources []resourceDef
}

func (x *completer) complete(ctx context.Context, req *mcp.CompleteRequest) (*mcp.CompleteResult, error) {
	ref, arg := req.Params.Ref, req.Params.Argument
	kind, err := x.kindOf(ref, arg.Name)
	if err != nil {
		return nil, err
	}
	value := strings.TrimSpace(arg.Value)
	if len(value) > maxCompleteValue {
		value = strings.ToValidUTF8(value[:maxCompleteValue], "") // no rune cut in half
	}
	ctx, span := x.d.startSpan(ctx, "completion/complete", attribute.String("mcp.completion.argument", arg.Name))
	values, more := x.values(ctx, req.Extra, kind, value)
	endSpan(span, false)
	return &mcp.CompleteResult{Completion: mcp.CompletionResultDetails{Values: values, HasMore: more}}, nil
}

// kindOf finds what an argument of an offered prompt or template completes
// to; an unknown prompt, template or argument is invalid params.
func (x *completer) kindOf(ref *mcp.CompleteReference, name string) (completeKind, error) {
	switch ref.Type {
	case "ref/prompt":
		for _, p := range x.prompts {
			if p.name != ref.Name {
				continue
			}
			for _, a := range p.args {
				if a.name == name {
					return a.complete, nil
				}
			}
			return completeNone, invalidParams("prompt %q has no argument %q", p.name, clip(name, 40))
		}
		return completeNone, invalidParams("unknown prompt %q", clip(ref.Name, 80))
	case "ref/resource":
		for _, r := range x.resources {
			if r.template.URITemplate != ref.URI {
				continue
			}
			if r.variable == name {
				return r.complete, nil
			}
			return completeNone, invalidParams("resource template %s has no variable %q", r.template.URITemplate, clip(name, 40))
		}
		return completeNone, invalidParams("unknown resource template %q", clip(ref.URI, 80))
	}
	return completeNone, invalidParams("unknown reference type %q", clip(ref.Type, 40))
}

// values never fails: completion helps typing, so an unreachable or
// unconfigured Prefect yields no suggestions rather than an error.
func (x *completer) values(ctx context.Context, extra *mcp.RequestExtra, kind completeKind, value string) ([]string, bool) {
	var h handler[string, []string]
	switch kind {
	case completeSince:
		return rank(sinceSuggestions(), value)
	case completeFlowRun:
		h = completeFlowRuns
	case completeDeployment:
		h = completeDeployments
	case completeWorkPool:
		h = completeWorkPools
	case completeAutomation:
		h = completeAutomations
	default:
		return []string{}, false
	}
	out, err := invoke(ctx, x.d, x.offered, extra, value, h)
	if err != nil {
		if x.d.Logger != nil {
			x.d.Logger.Debug("completion found no suggestions", "error", err.Error())
		}
		return []string{}, false
	}
	return rank(out, value)
}

// rank keeps the names containing value (any case), those starting with it
// first, each group in the order given, at most maxCompletions of them.
func rank(names []string, value string) ([]string, bool) {
	lower := strings.ToLower(value)
	var prefix, inner []string
	seen := map[string]bool{}
	for _, n := range names {
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		switch l := strings.ToLower(n); {
		case strings.HasPrefix(l, lower):
			prefix = append(prefix, n)
		case strings.Contains(l, lower):
			inner = append(inner, n)
		}
	}
	all := append(prefix, inner...)
	if len(all) > maxCompletions {
		return all[:maxCompletions], true
	}
	return append([]string{}, all...), false
}

// completeScan is how many objects one suggestion reads: enough for a
// prefix typed so far, and one request whatever the workspace size.
const completeScan = 50

// completeFlowRuns: the latest runs whose name contains value.
func completeFlowRuns(ctx context.Context, c *call, value string) ([]string, error) {
	body := prefect.Body{"sort": "START_TIME_DESC", "limit": completeScan}
	if value != "" {
		body["flow_runs"] = prefect.Where{"name": prefect.Like(value)}
	}
	var runs []prefect.FlowRun
	if err := c.target.Client.Post(ctx, "/flow_runs/filter", body, &runs); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(runs))
	for _, r := range runs {
		names = append(names, r.Name)
	}
	return names, nil
}

// completeDeployments: "flow/deployment" slugs, as search builds them. A
// value with a slash matches the deployment part after it.
func completeDeployments(ctx context.Context, c *call, value string) ([]string, error) {
	query := value
	if _, after, ok := strings.Cut(value, "/"); ok {
		query = after
	}
	s := newSearcher(c, query, completeScan)
	if err := s.deployments(ctx); err != nil {
		return nil, err
	}
	var slugs []string
	for _, r := range s.rows["deployment"] {
		slugs = append(slugs, r.Slug)
	}
	return slugs, nil
}

// completeWorkPools: pool names, matched locally (Prefect has no partial
// match for pools), as search does.
func completeWorkPools(ctx context.Context, c *call, value string) ([]string, error) {
	s := newSearcher(c, value, searchScan)
	if err := s.pools(ctx); err != nil {
		return nil, err
	}
	var names []string
	for _, r := range s.rows["work_pool"] {
		names = append(names, r.Name)
	}
	return names, nil
}

// completeAutomations: automation names, matched locally (Prefect filters
// automations by exact name only).
func completeAutomations(ctx context.Context, c *call, _ string) ([]string, error) {
	var autos []prefect.Automation
	if err := c.target.Client.Post(ctx, "/automations/filter", prefect.Body{"limit": searchScan}, &autos); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(autos))
	for _, a := range autos {
		names = append(names, a.Name)
	}
	sort.Strings(names)
	return names, nil
}

// Extras are the prompts and resource templates that go with a selection
// of tools, and the completion handler for their arguments.
type Extras struct {
	d         *Deps
	offered   Offered
	prompts   []promptDef
	resources []resourceDef
	completer *completer
}

// NewExtras selects the prompts and resource templates for the offered
// tools.
func NewExtras(d *Deps, offered Offered) *Extras {
	x := &Extras{d: d, offered: offered, prompts: offeredPrompts(offered), resources: offeredResources(offered)}
	x.completer = &completer{d: d, offered: offered, prompts: x.prompts, resources: x.resources}
	return x
}

// Complete is the completion/complete handler; nil when nothing completes.
func (x *Extras) Complete() func(context.Context, *mcp.CompleteRequest) (*mcp.CompleteResult, error) {
	if len(x.prompts) == 0 && len(x.resources) == 0 {
		return nil
	}
	return x.completer.complete
}

// Register adds the prompts and resource templates to s.
func (x *Extras) Register(s *mcp.Server) {
	for _, p := range x.prompts {
		s.AddPrompt(p.prompt(), p.handler(x.offered))
	}
	for _, r := range x.resources {
		s.AddResourceTemplate(r.template, r.handler(x.d, x.offered))
	}
}

// PromptNames lists the prompts Register adds.
func (x *Extras) PromptNames() []string {
	var out []string
	for _, p := range x.prompts {
		out = append(out, p.name)
	}
	return out
}

// TemplateURIs lists the resource templates Register adds.
func (x *Extras) TemplateURIs() []string {
	var out []string
	for _, r := range x.resources {
		out = append(out, r.template.URITemplate)
	}
	return out
}
