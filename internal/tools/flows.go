package tools

import (
	"context"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

type flowsInput struct {
	Filter map[string]any `json:"filter,omitempty"`
	Limit  int            `json:"limit,omitempty"`
	Offset int            `json:"offset,omitempty"`
	Workspace
}

func flowsTool() Definition {
	return define(Definition{
		Name: ToolGetFlows, Title: "Get flows", Group: GroupRuns,
		Summary: "Flows (the Python functions Prefect orchestrates) by name, with tags and creation time.",
	}, `Flows (the code) by name, filtered by a Prefect FlowFilter: id, name, tags, created.
Example: {"filter":{"name":{"like_":"etl"}}}`,
		func(s *jsonschema.Schema) { bound(s, "limit", 1, maxLimit) },
		getFlows)
}

type flowRow struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Tags    []string `json:"tags,omitempty"`
	Created string   `json:"created,omitempty"`
}

// flowsResult is one page of flows.
type flowsResult struct {
	Flows []flowRow `json:"flows"`
	Page
	// UIURLTemplate links a flow in the Prefect UI: {id} is its id (a
	// Prefect Cloud link in every row made the default page 15 KB).
	UIURLTemplate string `json:"ui_url_template,omitempty"`
}

func getFlows(ctx context.Context, c *call, in flowsInput) (*flowsResult, error) {
	limit, offset, err := pageArgs(in.Limit, in.Offset, defaultLimit, maxLimit)
	if err != nil {
		return nil, err
	}
	flows, more, err := fetchPage[prefect.Flow](ctx, c, listQuery{
		path: "/flows/filter", key: "flows", component: "FlowFilter", sort: "NAME_ASC",
		filter: in.Filter, limit: limit, offset: offset,
	})
	if err != nil {
		return nil, err
	}
	rows := make([]flowRow, len(flows))
	for i, f := range flows {
		rows[i] = flowRow{ID: f.ID, Name: f.Name, Tags: f.Tags, Created: ts(f.Created)}
	}
	return &flowsResult{rows, newPage(len(rows), offset, more), c.uiURLTemplate(uiFlow)}, nil
}
