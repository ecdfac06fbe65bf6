package tools

import (
	"context"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

type flowsInput struct {
	Filter map[string]any `json:"filter,omitempty" jsonschema:"a Prefect FlowFilter"`
	Limit  int            `json:"limit,omitempty" jsonschema:"default 50"`
	Offset int            `json:"offset,omitempty" jsonschema:"next_offset of a truncated result"`
	Workspace
}

func flowsTool() Definition {
	return define(Definition{
		Name: "get_flows", Title: "Get flows", Group: GroupRuns,
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
	UIURL   string   `json:"ui_url,omitempty"`
}

func getFlows(ctx context.Context, c *call, in flowsInput) (any, error) {
	limit, offset, err := pageArgs(in.Limit, in.Offset, defaultLimit, maxLimit)
	if err != nil {
		return nil, err
	}
	if err := c.checkFilter("FlowFilter", in.Filter); err != nil {
		return nil, err
	}
	body := map[string]any{"sort": "NAME_ASC", "limit": limit + 1, "offset": offset}
	if len(in.Filter) > 0 {
		body["flows"] = in.Filter
	}
	var flows []prefect.Flow
	if err := c.target.Client.Post(ctx, "/flows/filter", body, &flows); err != nil {
		return nil, err
	}
	more := len(flows) > limit
	if more {
		flows = flows[:limit]
	}
	rows := make([]flowRow, len(flows))
	for i, f := range flows {
		rows[i] = flowRow{ID: f.ID, Name: f.Name, Tags: f.Tags, Created: ts(f.Created), UIURL: c.uiURL(uiFlow, f.ID)}
	}
	return struct {
		Flows []flowRow `json:"flows"`
		page
	}{rows, newPage(len(rows), offset, more)}, nil
}
