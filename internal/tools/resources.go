package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/yosida95/uritemplate/v3"
	"go.opentelemetry.io/otel/attribute"
)

// Resources let a user attach a run, its logs, a deployment or a work pool
// to a conversation. Each is read by the handler of the tool that shows the
// same object (same shaping, bounds and upstream requests), through the
// same per-request target resolution, and is offered only with that tool.

// resourceDef is one resource template over one variable.
type resourceDef struct {
	template *mcp.ResourceTemplate
	tool     string // offered only with this tool
	variable string
	complete completeKind
	listKey  string // the result's list; empty means not found ("" for logs)
	read     func(ctx context.Context, c *call, ref string) (any, error)
}

// maxResourceRef bounds a template variable (names and ids are far shorter).
const maxResourceRef = 200

// resourceLogLines is how many log lines a logs resource holds: the end of
// the run, where a failure's traceback is.
const resourceLogLines = 200

func allResources() []resourceDef {
	defs := []resourceDef{
		{
			tool: ToolGetFlowRuns, variable: "id", complete: completeFlowRun, listKey: "flow_runs",
			template: &mcp.ResourceTemplate{Name: "flow-run", Title: "Flow run", URITemplate: "prefect://flow-runs/{id}",
				Description: "A flow run (id or name) in detail: state and history, timing, parameters, deployment and work pool; as " + ToolGetFlowRuns + " shows it."},
			read: func(ctx context.Context, c *call, ref string) (any, error) {
				id, err := c.resolveFlowRun(ctx, "id", ref)
				if err != nil {
					return nil, err
				}
				return getFlowRuns(ctx, c, flowRunsInput{Filter: selectOne("id", id)})
			},
		},
		{
			tool: ToolGetFlowRunLogs, variable: "id", complete: completeFlowRun,
			template: &mcp.ResourceTemplate{Name: "flow-run-logs", Title: "Flow run logs", URITemplate: "prefect://flow-runs/{id}/logs",
				Description: fmt.Sprintf("The last %d log lines of a flow run (id or name), oldest first; as "+ToolGetFlowRunLogs+" with tail shows them.", resourceLogLines)},
			read: func(ctx context.Context, c *call, ref string) (any, error) {
				return getFlowRunLogs(ctx, c, flowRunLogsInput{FlowRunID: ref, Tail: true, Limit: resourceLogLines})
			},
		},
		{
			tool: ToolGetDeployments, variable: "slug", complete: completeDeployment, listKey: "deployments",
			// {+slug}: reserved expansion (RFC 6570 3.2.3) lets the slug's
			// slash stand as typed (flow/deployment); flow%2Fdeployment
			// matches too and decodes to the same slug.
			template: &mcp.ResourceTemplate{Name: "deployment", Title: "Deployment", URITemplate: "prefect://deployments/{+slug}",
				Description: "A deployment by flow/deployment slug (prefect://deployments/my-flow/my-deployment) or id, in detail: schedules, work pool, parameters and defaults, job variables, last runs; as " + ToolGetDeployments + " shows it."},
			read: func(ctx context.Context, c *call, ref string) (any, error) {
				id, err := c.resolveDeployment(ctx, "slug", ref)
				if err != nil {
					return nil, err
				}
				return getDeployments(ctx, c, deploymentsInput{Filter: selectOne("id", id)})
			},
		},
		{
			tool: ToolGetWorkPools, variable: "name", complete: completeWorkPool, listKey: "work_pools",
			template: &mcp.ResourceTemplate{Name: "work-pool", Title: "Work pool", URITemplate: "prefect://work-pools/{name}",
				Description: "A work pool by name in detail: status, workers and last heartbeats, queues and their health, concurrency, job template; as " + ToolGetWorkPools + " shows it."},
			read: func(ctx context.Context, c *call, ref string) (any, error) {
				return getWorkPools(ctx, c, workPoolsInput{Filter: selectOne("name", ref)})
			},
		},
	}
	for i := range defs {
		defs[i].template.MIMEType = "application/json"
	}
	return defs
}

// selectOne is a filter selecting one value, shaped as a decoded JSON
// argument so the tools see a selection (and answer with their detail view).
func selectOne(field, value string) prefect.Where {
	return prefect.Where{field: prefect.AnyOf[any](value)}
}

// offeredResources are the templates whose tool is offered.
func offeredResources(offered Offered) []resourceDef {
	var out []resourceDef
	for _, r := range allResources() {
		if offered.Has(r.tool) {
			out = append(out, r)
		}
	}
	return out
}

func (r resourceDef) handler(d *Deps, offered Offered) mcp.ResourceHandler {
	tmpl := uritemplate.MustNew(r.template.URITemplate)
	return func(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		uri := req.Params.URI
		ctx, span := d.startSpan(ctx, "resources/read "+r.template.URITemplate, attribute.String("mcp.resource.template", r.template.URITemplate))
		text, err := r.readText(ctx, d, offered, req.Extra, uri, tmpl)
		endSpan(span, err != nil)
		if err != nil {
			return nil, err
		}
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, MIMEType: r.template.MIMEType, Text: text}}}, nil
	}
}

func (r resourceDef) readText(ctx context.Context, d *Deps, offered Offered, extra *mcp.RequestExtra, uri string, tmpl *uritemplate.Template) (string, error) {
	ref := strings.TrimSpace(tmpl.Match(uri).Get(r.variable).String())
	switch {
	case ref == "":
		return "", invalidParams("%s: the %s is empty", r.template.URITemplate, r.variable)
	case len(ref) > maxResourceRef:
		return "", invalidParams("%s: the %s is %d characters; at most %d", r.template.URITemplate, r.variable, len(ref), maxResourceRef)
	}
	out, err := invoke(ctx, d, offered, extra, ref, r.read)
	if err != nil {
		return "", resourceError(uri, err)
	}
	text, err := json.Marshal(out)
	if err != nil {
		return "", &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "could not encode the resource"}
	}
	if r.listKey != "" {
		var list map[string]json.RawMessage
		if json.Unmarshal(text, &list) == nil && string(list[r.listKey]) == "[]" {
			return "", resourceError(uri, &notFound{msg: fmt.Sprintf("no %s %q", r.template.Title, clip(ref, 80))})
		}
	}
	return string(text), nil
}

// resourceError turns a tool failure into a JSON-RPC error: not found as
// the protocol's resource-not-found (invalid params carrying the URI, as
// SEP-2164 has it), bad input as invalid params, the rest
// (Prefect unreachable, denied, not configured) as an internal error. The
// message is the one the tool would give, so it says what to do next.
func resourceError(uri string, err error) error {
	var nf *notFound
	var ie *inputError
	switch {
	case errors.As(err, &nf):
		data, _ := json.Marshal(map[string]string{"uri": uri})
		return &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "Resource not found: " + nf.msg, Data: data}
	case errors.As(err, &ie):
		return &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: err.Error()}
	}
	return &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: err.Error()}
}

// calledError is a failed invoke: msg is what the tool would have answered
// (safe to show); err is the handler's own error, nil when resolution failed.
type calledError struct {
	msg string
	err error
}

func (e *calledError) Error() string { return e.msg }
func (e *calledError) Unwrap() error { return e.err }

// invoke runs h exactly as a tool call runs (a concurrency slot, this
// request's target) for resources and completion, and returns h's value
// unencoded.
func invoke[In, Out any](ctx context.Context, d *Deps, offered Offered, extra *mcp.RequestExtra, in In, h handler[In, Out]) (Out, error) {
	var (
		out  Out
		herr error
	)
	res := run(ctx, d, &mcp.CallToolRequest{Extra: extra}, in, false, offered, func(ctx context.Context, c *call, in In) (struct{}, error) {
		out, herr = h(ctx, c, in)
		return struct{}{}, herr // the caller encodes out
	})
	if res.IsError {
		msg := "the request failed"
		if len(res.Content) > 0 {
			if t, ok := res.Content[0].(*mcp.TextContent); ok {
				msg = t.Text
			}
		}
		var zero Out
		return zero, &calledError{msg: msg, err: herr}
	}
	return out, nil
}
