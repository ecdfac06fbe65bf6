package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

// variableValueBudget bounds one variable's value in the result.
const variableValueBudget = 2 << 10

// variableSuggestions caps the near names offered when a name is not found.
const variableSuggestions = 10

type variablesInput struct {
	Name   string `json:"name,omitempty" jsonschema:"exact name: that variable with its value"`
	Limit  int    `json:"limit,omitempty"`
	Offset int    `json:"offset,omitempty"`
	Workspace
}

func variablesTool() Definition {
	return define(Definition{
		Name: ToolGetVariables, Title: "Get variables", Group: GroupDeployments,
		Summary: "Prefect variables: names, tags and times; the value of one variable when asked for by exact name.",
	}, `Variables by name and metadata, no values; with an exact name, that variable's value (may be sensitive).
Example: {"name":"etl_config"}`,
		func(s *jsonschema.Schema) { bound(s, "limit", 1, maxLimit) },
		getVariables)
}

type variableRow struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Tags    []string `json:"tags,omitempty"`
	Created string   `json:"created,omitempty"`
	Updated string   `json:"updated,omitempty"`
	Value   any      `json:"value,omitempty"`
}

// variablesResult is the list, or one variable (with its value) when a name
// is given.
type variablesResult struct {
	Variables []variableRow `json:"variables,omitzero"`
	Variable  *variableRow  `json:"variable,omitempty"`
	*Page
	Note string `json:"note"`
}

func getVariables(ctx context.Context, c *call, in variablesInput) (*variablesResult, error) {
	limit, offset, err := pageArgs(in.Limit, in.Offset, defaultLimit, maxLimit)
	if err != nil {
		return nil, err
	}
	if in.Name != "" {
		return c.getVariable(ctx, in.Name)
	}
	vars, more, err := postPage[prefect.Variable](ctx, c, "/variables/filter", prefect.Body{"sort": "NAME_ASC"}, limit, offset)
	if err != nil {
		return nil, err
	}
	rows := make([]variableRow, len(vars))
	for i, v := range vars {
		rows[i] = variableRow{ID: v.ID, Name: v.Name, Tags: v.Tags, Created: ts(v.Created), Updated: ts(v.Updated)}
	}
	p := newPage(len(rows), offset, more)
	return &variablesResult{Variables: rows, Page: &p, Note: "values are not listed; call again with name=<exact name> to read one"}, nil
}

// getVariable reads one variable by exact name; a miss names the variables
// whose names contain it, so a near guess still leads somewhere.
func (c *call) getVariable(ctx context.Context, name string) (*variablesResult, error) {
	if len(name) > 255 {
		return nil, badInput("name is %d characters; Prefect variable names have at most 255", len(name))
	}
	if err := pathName("variable", name, "", ToolGetVariables+" (no name)"); err != nil {
		return nil, err
	}
	var v prefect.Variable
	err := c.target.Client.Get(ctx, prefect.Path("/variables/name/%s", name), nil, &v)
	if prefect.IsNotFound(err) {
		var near []prefect.Variable
		body := prefect.Body{"variables": prefect.Where{"name": prefect.Like(name)}, "sort": "NAME_ASC", "limit": variableSuggestions}
		if err := c.target.Client.Post(ctx, "/variables/filter", body, &near); err != nil {
			return nil, err
		}
		msg := "variable " + clip(name, 80) + " was not found"
		if len(near) > 0 {
			names := make([]string, len(near))
			for i, n := range near {
				names[i] = n.Name
			}
			msg += "; names containing it: " + strings.Join(names, ", ")
		} else {
			msg += "; list the names with " + ToolGetVariables + " (no name)"
		}
		return nil, &notFound{msg: msg}
	}
	if err != nil {
		return nil, err
	}
	row := variableRow{ID: v.ID, Name: v.Name, Tags: v.Tags, Created: ts(v.Created), Updated: ts(v.Updated), Value: variableValue(v.Value)}
	return &variablesResult{Variable: &row, Note: "variable values may be sensitive: quote them only when needed"}, nil
}

// variableValue keeps a value as JSON when it fits the budget, else a cut
// string with a marker. A null value stays visible as null.
func variableValue(raw json.RawMessage) any {
	if len(raw) == 0 {
		return json.RawMessage("null")
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return clip(string(raw), variableValueBudget)
	}
	if buf.Len() <= variableValueBudget {
		return json.RawMessage(buf.Bytes())
	}
	return clip(buf.String(), variableValueBudget)
}
