// Package tools holds the MCP tools: one file per domain, one registry.
// Every tool reads Prefect and returns a compact JSON summary for a model.
package tools

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.opentelemetry.io/otel/trace"

	"github.com/prefect-mcp/prefect-mcp/internal/openapi"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
)

// Deps are what tool handlers need; passed explicitly, never global.
type Deps struct {
	Resolver target.Resolver
	Spec     *openapi.Spec
	// Now is the clock (time.Now in production, fixed in tests); required.
	Now    func() time.Time
	Logger *slog.Logger
	// Docs is the remote docs MCP server; nil disables the docs tools.
	Docs DocsClient
	// Grants reads the caller's OAuth grant in Cloud OAuth mode; nil otherwise.
	Grants GrantReader
	// Slots, when set, bounds how many tool calls run at once, fairly
	// between tenants.
	Slots *Slots
	// CallTimeout bounds one tool call from start to answer, waiting for a
	// slot included (0: DefaultCallTimeout).
	CallTimeout time.Duration
	// Tracer, when set, gets a span per tool call, resource read and
	// completion; upstream requests become its children. Nil: tracing off.
	Tracer trace.Tracer
}

// GrantReader lists the workspaces an OAuth caller consented to.
type GrantReader interface {
	Grant(ctx context.Context, req target.Request) (*target.Grant, error)
}

func (d *Deps) now() time.Time { return d.Now().UTC() }

// DocsClient calls a tool on the remote Prefect docs MCP server.
type DocsClient interface {
	CallTool(ctx context.Context, name string, args map[string]any) (*mcp.CallToolResult, error)
}

// Scope says for which kinds of Prefect a tool is offered.
type Scope int

const (
	AnyPrefect     Scope = iota
	CloudOnly            // needs an account-level Cloud API (API-key mode)
	SelfHostedOnly       // needs endpoints only a self-hosted server exposes
	OAuthOnly            // meaningful only in Cloud OAuth mode
)

// Groups a operator can switch on and off with --toolsets.
const (
	GroupIdentity       = "identity"
	GroupRuns           = "runs"
	GroupDeployments    = "deployments"
	GroupInfrastructure = "infrastructure"
	GroupEvents         = "events"
	GroupAutomations    = "automations"
	GroupDiagnosis      = "diagnosis"
	GroupDocs           = "docs"
)

// Definition describes one tool; Add registers it on a server.
type Definition struct {
	Name  string
	Title string
	Group string
	Scope Scope
	// Summary is the one-line description used in the README table.
	Summary string
	// noTarget tools run without resolving a Prefect target (c.target is nil).
	noTarget bool
	// result is the type the handler returns, encoded as the result text.
	result reflect.Type
	// schema is the input schema, resolved on first use.
	schema func() (*jsonschema.Resolved, error)
	add    func(s *mcp.Server, d *Deps, offered Offered)
}

// ResultType is the Go type of the tool's result: its JSON encoding is the
// result text, so tests decode results into it and snapshot its shape.
func (d Definition) ResultType() reflect.Type { return d.result }

// Selection chooses which definitions a server offers.
type Selection struct {
	// Groups enabled; nil means all.
	Groups []string
	// Kind of the server's target; tools whose scope does not fit are left out.
	// KindKnown is false for multi-tenant servers, where any kind may arrive.
	Kind      target.Kind
	KindKnown bool
	// OAuth is true in Cloud OAuth mode: account-level tools are not offered.
	OAuth bool
	// Docs is false when the docs proxy is turned off.
	Docs bool
}

// All returns every tool definition, sorted by name.
func All() []Definition {
	defs := []Definition{
		identityTool(),
		authorizedWorkspacesTool(),
		flowsTool(),
		flowRunsTool(),
		flowRunLogsTool(),
		serverStatusTool(), variablesTool(), stateHistoryTool(),
		countEventsTool(), workQueuesTool(), searchTool(),
		diagnoseFlowRunTool(), diagnoseLateRunsTool(), diagnoseStuckRunsTool(), diagnoseAutomationTool(),
		taskRunsTool(), eventsTool(), automationsTool(), artifactsTool(),
		objectSchemaTool(), rateLimitsTool(), docsSearchTool(), docsReleaseNotesTool(),
		deploymentsTool(),
		workPoolsTool(),
		concurrencyLimitsTool(),
		dashboardTool(),
		deploymentActivityTool(),
	}
	sort.Slice(defs, func(i, j int) bool { return defs[i].Name < defs[j].Name })
	return defs
}

// Groups lists the known tool groups.
func Groups() []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range All() {
		if !seen[d.Group] {
			seen[d.Group] = true
			out = append(out, d.Group)
		}
	}
	sort.Strings(out)
	return out
}

// ParseGroups validates a comma-separated --toolsets value.
func ParseGroups(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" || strings.TrimSpace(s) == "all" {
		return nil, nil
	}
	known := Groups()
	var out []string
	for _, g := range strings.Split(s, ",") {
		g = strings.TrimSpace(strings.ToLower(g))
		if g == "" {
			continue
		}
		if !slices.Contains(known, g) {
			return nil, fmt.Errorf("unknown tool group %q; known groups: %s (or \"all\")", g, strings.Join(known, ", "))
		}
		out = append(out, g)
	}
	return out, nil
}

// Selected filters definitions by the selection.
func Selected(sel Selection) []Definition {
	var out []Definition
	for _, d := range All() {
		if sel.Groups != nil && !slices.Contains(sel.Groups, d.Group) && d.Group != GroupIdentity {
			continue
		}
		if d.Group == GroupDocs && !sel.Docs {
			continue
		}
		switch d.Scope {
		case CloudOnly:
			if sel.OAuth || (sel.KindKnown && sel.Kind != target.Cloud) {
				continue
			}
		case SelfHostedOnly:
			if sel.OAuth || (sel.KindKnown && sel.Kind == target.Cloud) {
				continue
			}
		case OAuthOnly:
			if !sel.OAuth {
				continue
			}
		}
		out = append(out, d)
	}
	return out
}

// Register adds the selected tools to s and returns their names.
func Register(s *mcp.Server, d *Deps, sel Selection) []string {
	return RegisterDefinitions(s, d, Selected(sel))
}

// RegisterDefinitions adds defs, one selection's tools, to s and returns
// their names.
func RegisterDefinitions(s *mcp.Server, d *Deps, defs []Definition) []string {
	offered := Offer(defs)
	if d.Now == nil {
		panic("tools: Deps.Now is nil: pass the clock (time.Now in production)")
	}
	var names []string
	for _, def := range defs {
		def.add(s, d, offered)
		names = append(names, def.Name)
	}
	return names
}
