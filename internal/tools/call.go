package tools

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

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
}

// handler is the typed body of a tool. It returns the value to encode as the
// result, or an error: *inputError and *prefect errors become isError results.
type handler[In any] func(ctx context.Context, c *call, in In) (any, error)

// define builds a Definition for a tool with typed input In.
func define[In any](def Definition, description string, tweak func(*jsonschema.Schema), h handler[In]) Definition {
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
	def.add = func(s *mcp.Server, d *Deps) {
		mcp.AddTool(s, tool, func(ctx context.Context, req *mcp.CallToolRequest, in In) (*mcp.CallToolResult, any, error) {
			return run(ctx, d, req, in, def.noTarget, h), nil, nil
		})
	}
	return def
}

// run resolves the target, calls the handler and turns its outcome into a
// result. Errors the model can act on are isError results, never protocol
// errors.
func run[In any](ctx context.Context, d *Deps, req *mcp.CallToolRequest, in In, noTarget bool, h handler[In]) *mcp.CallToolResult {
	if d.Slots != nil {
		// Bound the calls doing upstream work at once: memory stays flat
		// when hundreds of clients call together; the rest wait their turn.
		select {
		case d.Slots <- struct{}{}:
			defer func() { <-d.Slots }()
		case <-ctx.Done():
			return errorResult(describeError(ctx.Err(), nil))
		}
	}
	c := &call{deps: d}
	var ws string
	if w, ok := any(in).(workspaceScoped); ok {
		ws = w.workspace()
	}
	treq := target.Request{WorkspaceID: ws}
	if req != nil && req.Extra != nil {
		treq.Header, treq.TokenInfo = req.Extra.Header, req.Extra.TokenInfo
	}
	c.treq = treq
	if !noTarget {
		t, err := d.Resolver.Resolve(ctx, treq)
		if err != nil {
			return errorResult(describeError(err, nil))
		}
		c.target = t
	}
	out, err := h(ctx, c, in)
	if err != nil {
		return errorResult(describeError(err, c.target))
	}
	text, err := json.Marshal(out)
	if err != nil {
		return errorResult(fmt.Sprintf("internal error: could not encode the result: %v", err))
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(text)}}}
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
