package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/prefect-mcp/prefect-mcp/internal/docsproxy"
)

// Tool names on the remote docs server (PrefectHQ's docs MCP server,
// packages/docs_mcp_server in PrefectHQ/prefect-mcp-server).
const (
	remoteSearchTool       = "search_prefect"
	remoteReleaseNotesTool = "get_release_notes"
)

// Byte budgets for what the docs server returns.
const (
	docsSearchBudget       = 32 << 10
	docsReleaseNotesBudget = 48 << 10
)

// defineLocal is define for tools that never read Prefect (docs, schemas):
// no target is resolved, so they answer before Prefect is configured and
// cost no Prefect request.
func defineLocal[In, Out any](def Definition, description string, tweak func(*jsonschema.Schema), h func(ctx context.Context, d *Deps, in In) (Out, error)) Definition {
	def.noTarget = true
	return define(def, description, tweak, func(ctx context.Context, c *call, in In) (Out, error) {
		return h(ctx, c.deps, in)
	})
}

// toolFailure is an error whose message is the whole tool error text.
type toolFailure struct{ msg string }

func (e *toolFailure) Error() string { return e.msg }

type docsSearchInput struct {
	Query string `json:"query" jsonschema:"what to look up"`
	TopK  int    `json:"top_k,omitempty" jsonschema:"excerpts, 1-20"`
}

func docsSearchTool() Definition {
	return defineLocal(Definition{
		Name: ToolDocsSearchPrefect, Title: "Search the Prefect docs", Group: GroupDocs,
		Summary: "Search Prefect's documentation (concepts, configuration, how-tos) through Prefect's docs MCP server.",
	}, `Search Prefect's documentation: excerpts with titles and links (via Prefect's docs server).
Example: {"query":"deployment concurrency limit"}`,
		func(s *jsonschema.Schema) { bound(s, "top_k", 1, 20) },
		func(ctx context.Context, d *Deps, in docsSearchInput) (*docsResult, error) {
			q := strings.TrimSpace(in.Query)
			if q == "" {
				return nil, badInput("query is required: describe what to look up, e.g. \"retry a failed flow run\"")
			}
			if len(q) > 1000 {
				return nil, badInput("query is too long (%d bytes); use at most 1000", len(q))
			}
			topK := in.TopK
			if topK == 0 {
				topK = 5
			}
			if topK < 1 || topK > 20 {
				return nil, badInput("top_k must be between 1 and 20 (got %d)", topK)
			}
			return callDocs(ctx, d, remoteSearchTool, map[string]any{"query": q, "top_k": topK}, docsSearchBudget)
		})
}

type releaseNotesInput struct {
	Version string `json:"version,omitempty" jsonschema:"latest or X.Y.Z"`
}

var releaseVersion = regexp.MustCompile(`^\d+\.\d+\.\d+$`)

func docsReleaseNotesTool() Definition {
	return defineLocal(Definition{
		Name: ToolDocsGetReleaseNotes, Title: "Get Prefect release notes", Group: GroupDocs,
		Summary: "The release notes of one Prefect OSS release (or the latest): version, date, changes, source link.",
	}, `Release notes of one Prefect release ("latest" or X.Y.Z), via Prefect's docs server.
Example: {"version":"latest"}`,
		func(s *jsonschema.Schema) { s.Properties["version"].Default = []byte(`"latest"`) },
		func(ctx context.Context, d *Deps, in releaseNotesInput) (*docsResult, error) {
			v := strings.ToLower(strings.TrimSpace(in.Version))
			v = strings.TrimPrefix(v, "v")
			if v == "" {
				v = "latest"
			}
			if v != "latest" && !releaseVersion.MatchString(v) {
				return nil, badInput("version %q is not valid; use \"latest\" or an exact release such as 3.4.20", clip(in.Version, 40))
			}
			return callDocs(ctx, d, remoteReleaseNotesTool, map[string]any{"version": v}, docsReleaseNotesBudget)
		})
}

// docsResult is what the docs server answered, bounded: its JSON as is
// (json.RawMessage), or its text (a string).
type docsResult struct {
	Result any    `json:"result"`
	Note   string `json:"note,omitempty"`
}

// callDocs proxies one call and passes the answer through within budget.
func callDocs(ctx context.Context, d *Deps, tool string, args map[string]any, budget int) (*docsResult, error) {
	if d.Docs == nil {
		return nil, &toolFailure{"The Prefect docs tools are turned off on this server (started with --no-docs or without a docs URL)."}
	}
	res, err := d.Docs.CallTool(ctx, tool, args)
	if err != nil {
		var de *docsproxy.Error
		switch {
		case errors.As(err, &de):
			return nil, &toolFailure{capitalize(de.Error()) + "."}
		case errors.Is(err, context.Canceled):
			return nil, &toolFailure{"The request was cancelled."}
		}
		return nil, &toolFailure{fmt.Sprintf("The Prefect docs lookup failed: %v; docs tools can be turned off with --no-docs.", err)}
	}
	text := resultText(res)
	if res.IsError {
		return nil, &toolFailure{"The Prefect docs server could not answer: " + clip(text, 2000)}
	}
	if strings.TrimSpace(text) == "" {
		return &docsResult{Result: "", Note: "the docs server returned nothing"}, nil
	}
	if len(text) <= budget && json.Valid([]byte(text)) {
		return &docsResult{Result: json.RawMessage(text)}, nil
	}
	out := &docsResult{Result: clip(text, budget)}
	if len(text) > budget {
		out.Note = "the answer was cut to fit; ask a narrower question (smaller top_k)"
	}
	return out, nil
}

// resultText joins a result's text contents; without any, the structured
// content stands in.
func resultText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			b.WriteString(tc.Text)
		}
	}
	if b.Len() == 0 && res.StructuredContent != nil {
		if raw, err := json.Marshal(res.StructuredContent); err == nil {
			return string(raw)
		}
	}
	return b.String()
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
