package tools

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

const (
	defaultArtifactLimit = 20
	maxArtifactLimit     = 100
	// artifactBudget bounds one artifact's content (markdown text, table rows).
	artifactBudget = 1500
	// maxTableColumns bounds a table summary's column list.
	maxTableColumns = 30
	// artifactsBudget bounds a whole result; past it the rest is a next page.
	artifactsBudget = 48 << 10
)

// artifactTypes are the artifacts a person made to be read; "result"
// artifacts only point at stored task results.
var artifactTypes = []string{"markdown", "table", "link", "progress", "image"}

type artifactsInput struct {
	FlowRunID string `json:"flow_run_id,omitempty" jsonschema:"a flow run's UUID"`
	Key       string `json:"key,omitempty" jsonschema:"artifact key"`
	Limit     int    `json:"limit,omitempty" jsonschema:"1-100, default 20"`
	Offset    int    `json:"offset,omitempty"`
	Workspace
}

func artifactsTool() Definition {
	return define(Definition{
		Name: ToolGetArtifacts, Title: "Get artifacts", Group: GroupRuns,
		Summary: "Markdown, table, link, image and progress artifacts of flow runs, newest first, with bounded content.",
	}, `Artifacts flows published (markdown, table, link, image, progress), newest first, content bounded. key alone: its latest version.
Example: {"flow_run_id":"<uuid>"}`,
		func(s *jsonschema.Schema) { bound(s, "limit", 1, maxArtifactLimit) },
		getArtifacts)
}

type artifactRow struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	Key         string `json:"key,omitempty"`
	Description string `json:"description,omitempty"`
	FlowRunID   string `json:"flow_run_id,omitempty"`
	TaskRunID   string `json:"task_run_id,omitempty"`
	Created     string `json:"created"`
	Content     any    `json:"content,omitempty"`
}

type tableSummary struct {
	Columns  []string `json:"columns,omitempty"`
	RowCount int      `json:"row_count"`
	Rows     [][]any  `json:"rows"`
	Note     string   `json:"note,omitempty"`
}

// artifactsResult is one page of artifacts.
type artifactsResult struct {
	Artifacts []artifactRow `json:"artifacts"`
	Page
	Note string `json:"note,omitempty"`
}

func getArtifacts(ctx context.Context, c *call, in artifactsInput) (*artifactsResult, error) {
	limit, offset, err := pageArgs(in.Limit, in.Offset, defaultArtifactLimit, maxArtifactLimit)
	if err != nil {
		return nil, err
	}
	filter := prefect.Where{"type": prefect.AnyOf(artifactTypes...)}
	if in.FlowRunID != "" {
		id, err := c.resolveFlowRun(ctx, "flow_run_id", in.FlowRunID)
		if err != nil {
			return nil, err
		}
		filter["flow_run_id"] = prefect.AnyOf(id)
	}
	key := strings.TrimSpace(in.Key)
	if in.Key != "" && key == "" {
		return nil, badInput("key is blank; give an artifact key such as etl-report, or omit it")
	}
	if key != "" {
		filter["key"] = prefect.AnyOf(key)
	}
	path, latest := "/artifacts/filter", key != "" && in.FlowRunID == ""
	if latest {
		path = "/artifacts/latest/filter"
	}
	arts, more, err := postPage[prefect.Artifact](ctx, c, path, prefect.Body{"artifacts": filter, "sort": "CREATED_DESC"}, limit, offset)
	if err != nil {
		return nil, err
	}
	rows := make([]artifactRow, 0, len(arts))
	size := 0
	for i := range arts {
		row := newArtifactRow(&arts[i], latest)
		b, _ := json.Marshal(row)
		if size += len(b); size > artifactsBudget && len(rows) > 0 {
			more = true
			break
		}
		rows = append(rows, row)
	}
	out := &artifactsResult{Artifacts: rows, Page: newPage(len(rows), offset, more)}
	if latest {
		out.Note = "the latest artifact with key " + strconv.Quote(key) + "; add flow_run_id to read the versions a given run created"
	}
	if len(rows) == 0 && in.FlowRunID != "" && offset == 0 {
		if err := c.ensureRun(ctx, logQuery{flowRunID: strings.ToLower(strings.TrimSpace(in.FlowRunID))}); err != nil {
			return nil, err
		}
		out.Note = "this flow run created no markdown, table, link, image or progress artifacts"
	}
	return out, nil
}

func newArtifactRow(a *prefect.Artifact, latest bool) artifactRow {
	row := artifactRow{
		ID: a.ID, Type: a.Type, Key: a.Key, Description: clip(a.Description, automationDescBudget),
		FlowRunID: a.FlowRunID, TaskRunID: a.TaskRunID, Created: ts(a.Created),
	}
	if latest && a.LatestID != "" {
		row.ID = a.LatestID // the collection's own id is useless to the caller
	}
	row.Content = artifactContent(a.Type, a.Data)
	return row
}

// artifactContent shapes an artifact's data by type within artifactBudget.
func artifactContent(typ string, data json.RawMessage) any {
	if len(data) == 0 || string(data) == "null" {
		return nil
	}
	var text string
	isText := json.Unmarshal(data, &text) == nil
	switch {
	case typ == "progress":
		var f float64
		if json.Unmarshal(data, &f) == nil {
			return strconv.FormatFloat(f, 'f', -1, 64) + "%"
		}
	case typ == "table":
		raw := []byte(data)
		if isText {
			raw = []byte(text) // Prefect stores tables JSON-encoded in a string
		}
		if t, ok := summarizeTable(raw); ok {
			return t
		}
	}
	if isText {
		return clip(text, artifactBudget)
	}
	return clipJSON(data, artifactBudget)
}

// summarizeTable reads the table shapes Prefect accepts — a list of row
// objects, an object of column lists, or a list of row lists — into columns
// and as many first rows as fit artifactBudget.
func summarizeTable(raw []byte) (tableSummary, bool) {
	raw = bytes.TrimSpace(raw)
	var t tableSummary
	var all [][]any
	switch {
	case len(raw) > 0 && raw[0] == '[':
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return t, false
		}
		for _, it := range items {
			it = bytes.TrimSpace(it)
			if len(it) > 0 && it[0] == '{' {
				keys, vals, ok := orderedObject(it)
				if !ok {
					return t, false
				}
				row := make([]any, len(t.Columns))
				for i, k := range keys {
					col := indexOrAdd(&t.Columns, k)
					for len(row) <= col {
						row = append(row, nil)
					}
					row[col] = vals[i]
				}
				all = append(all, row)
				continue
			}
			var row []any
			if json.Unmarshal(it, &row) != nil {
				return t, false
			}
			all = append(all, row)
		}
	case len(raw) > 0 && raw[0] == '{':
		keys, vals, ok := orderedObject(raw)
		if !ok {
			return t, false
		}
		t.Columns = keys
		for c, v := range vals {
			col, ok := v.([]any)
			if !ok {
				return t, false
			}
			for r, cell := range col {
				for len(all) <= r {
					all = append(all, make([]any, len(keys)))
				}
				all[r][c] = cell
			}
		}
	default:
		return t, false
	}
	t.RowCount = len(all)
	if len(t.Columns) > maxTableColumns {
		t.Note = strconv.Itoa(len(t.Columns)) + " columns; the first " + strconv.Itoa(maxTableColumns) + " are shown"
		t.Columns = t.Columns[:maxTableColumns]
	}
	used := 0
	for _, c := range t.Columns {
		used += len(c) + 3
	}
	t.Rows = [][]any{}
	for _, row := range all {
		if len(row) > maxTableColumns {
			row = row[:maxTableColumns]
		}
		for i, cell := range row {
			if s, ok := cell.(string); ok {
				row[i] = clip(s, 200)
			}
		}
		b, _ := json.Marshal(row)
		if used+len(b) > artifactBudget {
			break
		}
		used += len(b) + 1
		t.Rows = append(t.Rows, row)
	}
	if len(t.Rows) < t.RowCount && t.Note == "" {
		t.Note = "first " + strconv.Itoa(len(t.Rows)) + " of " + strconv.Itoa(t.RowCount) + " rows"
	}
	return t, true
}

// orderedObject decodes a JSON object keeping its key order (a table's
// column order matters to a reader).
func orderedObject(raw []byte) ([]string, []any, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, false
	}
	var keys []string
	var vals []any
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, false
		}
		k, ok := tok.(string)
		if !ok {
			return nil, nil, false
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, nil, false
		}
		keys, vals = append(keys, k), append(vals, v)
	}
	return keys, vals, true
}

func indexOrAdd(list *[]string, s string) int {
	for i, e := range *list {
		if e == s {
			return i
		}
	}
	*list = append(*list, s)
	return len(*list) - 1
}
