package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
)

// Workspace is embedded in the input of every workspace-scoped tool.
type Workspace struct {
	// No description: it would cost every tool's schema; the server
	// instructions explain it in Cloud OAuth mode.
	WorkspaceID string `json:"workspace_id,omitempty"`
}

func (w Workspace) workspace() string { return w.WorkspaceID }

type workspaceScoped interface{ workspace() string }

// call is one tool invocation: its target and dependencies.
type call struct {
	deps   *Deps
	target *target.Target
	treq   target.Request
	// offered are the tools this server registers: texts name only these.
	offered Offered
}

// handler is the typed body of a tool. It returns its result, encoded as
// compact JSON text, or an error: *inputError and *prefect errors become
// isError results.
type handler[In, Out any] func(ctx context.Context, c *call, in In) (Out, error)

// define builds a Definition for a tool with typed input In and result Out.
func define[In, Out any](def Definition, description string, tweak func(*jsonschema.Schema), h handler[In, Out]) Definition {
	def.result = reflect.TypeFor[Out]()
	no, openWorld := false, def.Group == GroupDocs // only the docs tools reach beyond Prefect
	tool := &mcp.Tool{
		Name:        def.Name,
		Title:       def.Title,
		Description: description,
		InputSchema: schemaFor[In](tweak),
		Annotations: &mcp.ToolAnnotations{
			ReadOnlyHint:    true,
			DestructiveHint: &no,
			IdempotentHint:  true,
			OpenWorldHint:   &openWorld,
		},
	}
	// Resolved on the first call, once for every server built from this
	// definition: resolving all the schemas at registration, as
	// mcp.AddTool does, was a quarter of the in-process start-up.
	resolved := sync.OnceValues(func() (*jsonschema.Resolved, error) {
		return tool.InputSchema.(*jsonschema.Schema).Resolve(&jsonschema.ResolveOptions{ValidateDefaults: true})
	})
	def.schema = resolved
	def.add = func(s *mcp.Server, d *Deps, offered Offered) {
		t := *tool
		t.Description = offered.Prune(description)
		s.AddTool(&t, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			ctx, span := d.startSpan(ctx, "tools/call "+def.Name, attribute.String("gen_ai.tool.name", def.Name))
			var (
				in  In
				res *mcp.CallToolResult
			)
			if raw, err := validateArgs(resolved, req.Params.Arguments); err != nil {
				res = &mcp.CallToolResult{}
				res.SetError(fmt.Errorf("validating \"arguments\": %v", err))
			} else if err := decodeArgs(raw, &in); err != nil {
				res = errorResult(describeError(err, nil))
			} else {
				res = run(ctx, d, req, in, def.noTarget, offered, h)
			}
			endSpan(span, res.IsError)
			return res, nil
		})
	}
	return def
}

// validateArgs checks the arguments against the tool's input schema and
// fills its defaults, as mcp.AddTool would: absent arguments are an empty
// object.
func validateArgs(resolve func() (*jsonschema.Resolved, error), raw json.RawMessage) (json.RawMessage, error) {
	resolved, err := resolve()
	if err != nil {
		return nil, err // a programmer error; every tool's schema is resolved in tests
	}
	args := map[string]any{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &args); err != nil {
			return nil, fmt.Errorf("unmarshaling arguments: %w", err)
		}
	}
	var v any = args
	if err := resolved.ApplyDefaults(&v); err != nil {
		return nil, err
	}
	if err := resolved.Validate(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// maxStringArg bounds, in characters, each string argument and each string
// of an array argument. Prefect's longest names are its event names, 1024
// (server.events.maximum_event_name_length, src/prefect/settings/models/
// server/events.py); a longer argument matches nothing, so it is refused
// before any request: never sent upstream, never echoed back.
const maxStringArg = 1024

// decodeArgs decodes schema-checked arguments into in. What can still fail
// is a string past maxStringArg, or a whole number beyond what Go holds (an
// offset of 1e20): each becomes an argument error in words, not the
// decoder's message.
func decodeArgs(raw json.RawMessage, in any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if err := boundStrings(raw); err != nil {
		return err
	}
	err := json.Unmarshal(raw, in)
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te) && te.Field != "" && te.Type.Kind() == reflect.Int:
		return badInput("%s is out of range (%s): use a whole number from 0 to %d", te.Field,
			clip(strings.TrimPrefix(te.Value, "number "), 40), math.MaxInt)
	case errors.As(err, &te) && te.Field != "":
		return badInput("%s has the wrong type (%s); see the tool's input schema", te.Field, clip(te.Value, 40))
	}
	return badInput("the arguments could not be read; see the tool's input schema")
}

// boundStrings refuses a top-level string argument, or a string in an
// array argument, longer than maxStringArg. Filter objects are left to
// their validation against Prefect's schemas.
func boundStrings(raw json.RawMessage) error {
	var args map[string]json.RawMessage
	if json.Unmarshal(raw, &args) != nil {
		return nil // not an object: the decoder says so
	}
	for _, name := range slices.Sorted(maps.Keys(args)) {
		var one string
		var many []string
		if json.Unmarshal(args[name], &one) == nil {
			many = append(many, one)
		} else if json.Unmarshal(args[name], &many) != nil {
			continue
		}
		for _, v := range many {
			if n := utf8.RuneCountInString(v); n > maxStringArg {
				return badInput("%s is %d characters; at most %d, the length of Prefect's longest names (event names): check it", name, n, maxStringArg)
			}
		}
	}
	return nil
}

// run resolves the target, calls the handler and turns its outcome into a
// result. Errors the model can act on are isError results, never protocol
// errors. One deadline covers the whole call, waiting for a slot included.
func run[In, Out any](ctx context.Context, d *Deps, req *mcp.CallToolRequest, in In, noTarget bool, offered Offered, h handler[In, Out]) *mcp.CallToolResult {
	ctx, cancel := context.WithTimeoutCause(ctx, d.callTimeout(), errCallDeadline)
	defer cancel()
	ctx, releaseAnswers := prefect.Hold(ctx) // decoded answers count against the budget until the call ends
	defer releaseAnswers()
	c := &call{deps: d, treq: requestOf(req, in), offered: offered}
	if d.Slots != nil {
		release, err := d.Slots.acquire(ctx, tenantOf(c.treq))
		if err != nil {
			return errorResult(offered.Prune(d.describeStop(ctx, err, nil, true)))
		}
		defer release()
	}
	if !noTarget {
		t, err := d.Resolver.Resolve(ctx, c.treq)
		if err != nil {
			return errorResult(offered.Prune(d.describeStop(ctx, err, nil, false)))
		}
		c.target = t
		trace.SpanFromContext(ctx).SetAttributes(attribute.String("prefect.tenant.kind", t.Kind.String()))
	}
	result, err := h(ctx, c, in)
	if err != nil {
		return errorResult(offered.Prune(d.describeStop(ctx, err, c.target, false)))
	}
	var out any = result
	if n, ok := out.(namingTools); ok {
		out = n.forOffered(offered)
	}
	text, err := json.Marshal(out)
	if err != nil {
		return errorResult(fmt.Sprintf("internal error: could not encode the result: %v", err))
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(text)}}}
}

func requestOf[In any](req *mcp.CallToolRequest, in In) target.Request {
	var treq target.Request
	if w, ok := any(in).(workspaceScoped); ok {
		treq.WorkspaceID = w.workspace()
	}
	if req != nil && req.Extra != nil {
		treq.Header, treq.TokenInfo = req.Extra.Header, req.Extra.TokenInfo
	}
	return treq
}

// DefaultCallTimeout is the deadline of one tool call, from its start to its
// answer: below the 60 s after which common MCP clients (the TypeScript SDK)
// give up, so the model reads the server's explanation, not a client timeout.
const DefaultCallTimeout = 50 * time.Second

// errCallDeadline is the cause of a call's context when its deadline fires.
var errCallDeadline = errors.New("the per-call deadline passed")

func (d *Deps) callTimeout() time.Duration {
	if d.CallTimeout > 0 {
		return d.CallTimeout
	}
	return DefaultCallTimeout
}

// describeStop describes err, or the deadline when it is what ended the call
// (whatever error the interrupted work returned).
func (d *Deps) describeStop(ctx context.Context, err error, t *target.Target, waitingForSlot bool) string {
	if !errors.Is(context.Cause(ctx), errCallDeadline) {
		return describeError(err, t)
	}
	limit := d.callTimeout().Round(time.Millisecond)
	if waitingForSlot {
		return fmt.Sprintf("This call waited %s for a free slot and was stopped at this server's per-call deadline (--call-timeout): the server is busy with other calls (--max-concurrent-calls). Retry in a moment.", limit)
	}
	where := "Prefect"
	if t != nil {
		where = "the Prefect API at " + t.APIURL
	}
	return fmt.Sprintf("This call was stopped at this server's per-call deadline of %s (--call-timeout): %s did not answer in time. Retry with a narrower request (a smaller limit, a tighter filter or a shorter time window), or later if Prefect is overloaded.", limit, where)
}

func errorResult(msg string) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: msg}}}
}

// inputError is a bad argument; its message says what is valid.
type inputError struct{ msg string }

func (e *inputError) Error() string { return e.msg }

func badInput(format string, args ...any) error {
	return &inputError{msg: fmt.Sprintf(format, args...)}
}

// notFound is a missing object named by the caller.
type notFound struct{ msg string }

func (e *notFound) Error() string { return e.msg }

func isInputError(err error) bool {
	var ie *inputError
	return errors.As(err, &ie)
}

// describe is describeError for texts inside a result (notes, per-part
// errors): it names only the tools this server offers.
func (c *call) describe(err error) string {
	return c.offered.Prune(describeError(err, c.target))
}
