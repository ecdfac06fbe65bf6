package tools

import (
	"cmp"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

const (
	// defaultEventLimit keeps the default page well within 12 KB: each
	// event of another flow run adds its id and deployment once.
	defaultEventLimit = 30
	maxEventLimit     = 500
	// defaultEventLookback is the window when occurred_after is not given.
	defaultEventLookback = time.Hour
	eventPayloadBudget   = 300
	eventMessageBudget   = 200
	maxEventRelated      = 4
)

// eventPayloadExtras are payload keys dropped first when a payload is over
// budget: ids for correlating events that the rows already order in time.
var eventPayloadExtras = []string{"invocation", "triggering_labels"}

type eventsInput struct {
	EventTypePrefix   string `json:"event_type_prefix,omitempty" jsonschema:"e.g. prefect.flow-run.Failed, prefect.automation."`
	ResourceID        string `json:"resource_id,omitempty" jsonschema:"e.g. prefect.flow-run.<uuid>; trailing * = prefix"`
	RelatedResourceID string `json:"related_resource_id,omitempty" jsonschema:"e.g. prefect.deployment.<uuid>; trailing * = prefix"`
	OccurredAfter     string `json:"occurred_after,omitempty" jsonschema:"RFC 3339, date, now, -30m, -7d"`
	OccurredBefore    string `json:"occurred_before,omitempty" jsonschema:"same forms; default now"`
	Limit             int    `json:"limit,omitempty" jsonschema:"1-500, default 30"`
	Workspace
}

func eventsTool() Definition {
	return define(Definition{
		Name: ToolReadEvents, Title: "Read events", Group: GroupEvents,
		Summary: "Prefect events, newest first, in a time window (default the last hour), by event-name prefix, resource and related resource.",
	}, `Prefect events, newest first: state changes, heartbeats (consecutive: one row), automation triggers and actions, with related names, payload summary; ids in resources. Default window: last hour; widen ("-7d") if empty.
Example: {"event_type_prefix":"prefect.flow-run.","occurred_after":"-24h"}`,
		func(s *jsonschema.Schema) { bound(s, "limit", 1, maxEventLimit) },
		readEvents)
}

type eventRow struct {
	ID       string `json:"id,omitempty"` // absent on a heartbeats row
	Event    string `json:"event"`
	Occurred string `json:"occurred"` // a heartbeats row: the newest
	// Earliest and Resources: consecutive heartbeats, one row (each
	// resource once per beat, newest first).
	Earliest  string   `json:"earliest,omitempty"`
	Resource  string   `json:"resource,omitempty"` // key into eventsResult.Resources
	Resources []string `json:"resources,omitempty"`
	State     string   `json:"state,omitempty"`
	Message   string   `json:"message,omitempty"`
	Related   []string `json:"related,omitempty"`
	Payload   any      `json:"payload,omitempty"`
}

// eventResource is what the rows of one resource share: listed once. A
// flow run's work pool is left to get_flow_runs.
type eventResource struct {
	ID string `json:"id"`
	// FlowRun is a task run's flow run: its key in eventsResult.Resources.
	FlowRun string `json:"flow_run,omitempty"`
	// Deployment is "flow/deployment" (the slug tools take); Flow is set
	// only for a run without a deployment.
	Flow       string `json:"flow,omitempty"`
	Deployment string `json:"deployment,omitempty"`
}

type eventsResult struct {
	Window    timeWindow                `json:"window"`
	Events    []eventRow                `json:"events"`
	Resources map[string]*eventResource `json:"resources,omitempty"`
	Total     int                       `json:"total"`
	Page
	Note string `json:"note,omitempty"`
}

func readEvents(ctx context.Context, c *call, in eventsInput) (*eventsResult, error) {
	limit, _, err := pageArgs(in.Limit, 0, defaultEventLimit, maxEventLimit)
	if err != nil {
		return nil, err
	}
	window, err := resolveWindow("occurred_after", in.OccurredAfter, "occurred_before", in.OccurredBefore, c.deps.now(), defaultEventLookback)
	if err != nil {
		return nil, err
	}
	// The window sent is the window shown: whole seconds.
	filter := prefect.Where{"occurred": prefect.Occurred(window.since, window.until), "order": "DESC"}
	if p := strings.TrimSpace(in.EventTypePrefix); p != "" {
		filter["event"] = prefect.EventPrefix(p)
	}
	if in.ResourceID != "" {
		spec, err := resourceIDFilter("resource_id", in.ResourceID)
		if err != nil {
			return nil, err
		}
		filter["resource"] = spec
	}
	if in.RelatedResourceID != "" {
		spec, err := resourceIDFilter("related_resource_id", in.RelatedResourceID)
		if err != nil {
			return nil, err
		}
		filter["related"] = spec
	}
	read, err := prefect.PageEvents(ctx, c.target.Client, filter, limit)
	if err != nil {
		return nil, err
	}
	events, total, more, note := read.Events, read.Total, read.More, read.Stopped
	res := &eventsResult{Window: window, Events: make([]eventRow, len(events)), Total: total, Note: note}
	keys := resourceKeys{res: map[string]*eventResource{}}
	for i := range events {
		res.Events[i] = newEventRow(&events[i], &keys)
	}
	res.Events = groupHeartbeats(res.Events)
	if len(keys.res) > 0 {
		res.Resources = keys.res
	}
	res.Page = Page{Count: len(events), Truncated: more}
	if len(events) == 0 && window.Defaulted && note == "" {
		res.Note = "no events in the default one-hour window; widen it with occurred_after (e.g. \"-24h\" or \"-7d\")"
	}
	return res, nil
}

// resourceIDFilter turns a resource id argument into an EventResourceFilter
// (or EventRelatedFilter) criterion: exact id, or id_prefix with a trailing *.
func resourceIDFilter(name, v string) (prefect.Where, error) {
	v = strings.TrimSpace(v)
	if prefect.IsUUID(v) {
		return nil, badInput("%s %q is a bare UUID; Prefect resource ids name their kind: prefect.flow-run.<uuid>, prefect.deployment.<uuid>, prefect.work-pool.<uuid>, prefect.flow.<uuid>, prefect.task-run.<uuid>", name, v)
	}
	if p, ok := strings.CutSuffix(v, "*"); ok {
		if p == "" {
			return nil, badInput("%s \"*\" matches everything; omit %s instead", name, name)
		}
		return prefect.ResourceIDPrefix(p), nil
	}
	return prefect.ResourceID(v), nil
}

// resourceKeys names each event resource by its prefect.resource.name,
// or by its id when it has no name or another resource has that name.
type resourceKeys struct {
	res map[string]*eventResource
}

func (k *resourceKeys) key(id, name string) (string, *eventResource) {
	if id == "" {
		return "", nil
	}
	for _, key := range []string{name, id} {
		if key == "" {
			continue
		}
		if r, ok := k.res[key]; ok {
			if r.ID == id {
				return key, r
			}
			continue
		}
		r := &eventResource{ID: id}
		k.res[key] = r
		return key, r
	}
	return id, k.res[id] // an id used as another resource's name: keep it unambiguous
}

func newEventRow(e *prefect.Event, keys *resourceKeys) eventRow {
	row := eventRow{
		ID:       e.ID,
		Event:    e.Event,
		Occurred: ts(e.Occurred),
		Message:  clip(e.Resource["prefect.state-message"], eventMessageBudget),
	}
	key, res := keys.key(e.Resource["prefect.resource.id"], e.Resource["prefect.resource.name"])
	row.Resource = key
	stateType, stateName := e.Resource["prefect.state-type"], e.Resource["prefect.state-name"]
	if stateType == "" {
		if vs, ok := e.Payload["validated_state"].(map[string]any); ok {
			stateType, _ = vs["type"].(string)
			stateName, _ = vs["name"].(string)
		}
	}
	if label := stateLabel(stateType, stateName); label != "" && label != e.Event[strings.LastIndexByte(e.Event, '.')+1:] {
		row.State = label
	}
	// A task run's flow and deployment are its flow run's: said once, on
	// the flow run's entry, which the task run names.
	target := res
	if res != nil && strings.HasPrefix(res.ID, "prefect.task-run.") {
		for _, r := range e.Related {
			if r["prefect.resource.role"] == "flow-run" && r["prefect.resource.id"] != "" {
				res.FlowRun, target = keys.key(r["prefect.resource.id"], r["prefect.resource.name"])
				break
			}
		}
	}
	var flow, deployment string
	for _, r := range e.Related {
		role, name, id := r["prefect.resource.role"], r["prefect.resource.name"], r["prefect.resource.id"]
		ref := role + ": " + id
		if name != "" {
			ref += " (" + name + ")"
		}
		switch role {
		case "flow":
			flow = cmp.Or(flow, name)
		case "deployment":
			deployment = cmp.Or(deployment, name)
		case "flow-run":
			if target != res {
				continue // the task run's flow run, named above
			}
			if len(row.Related) < maxEventRelated && id != "" {
				row.Related = append(row.Related, ref)
			}
		case "work-pool", "tag", "work-queue", "":
			// pools, tags and queues are many and rarely decisive; the run has them
		default:
			if len(row.Related) < maxEventRelated && id != "" {
				row.Related = append(row.Related, ref)
			}
		}
	}
	if target != nil && target.Flow == "" && target.Deployment == "" {
		if deployment != "" && flow != "" {
			target.Deployment = flow + "/" + deployment
		} else {
			target.Flow, target.Deployment = flow, deployment
		}
	}
	row.Payload = eventPayloadSummary(e.Payload)
	return row
}

// groupHeartbeats makes one row of consecutive heartbeats of one event name
// that carry nothing but their resource: a page of a busy hour is mostly
// these, and each beat's own second and id say nothing more.
func groupHeartbeats(rows []eventRow) []eventRow {
	bare := func(r *eventRow) bool {
		return strings.HasSuffix(r.Event, ".heartbeat") && r.Resource != "" && r.State == "" && r.Message == "" && r.Related == nil && r.Payload == nil
	}
	out := rows[:0]
	for i := 0; i < len(rows); {
		j := i + 1
		for bare(&rows[i]) && j < len(rows) && bare(&rows[j]) && rows[j].Event == rows[i].Event {
			j++
		}
		if j-i == 1 {
			out = append(out, rows[i])
			i = j
			continue
		}
		g := eventRow{Event: rows[i].Event, Occurred: rows[i].Occurred, Earliest: rows[j-1].Occurred}
		for _, r := range rows[i:j] {
			g.Resources = append(g.Resources, r.Resource)
		}
		out = append(out, g)
		i = j
	}
	return out
}

// eventPayloadSummary drops the state-transition keys the row already
// carries and bounds the rest: long strings are cut first, so a payload
// stays structured JSON where it can.
func eventPayloadSummary(p map[string]any) any {
	rest := map[string]any{}
	for k, v := range p {
		switch k {
		// The transition is the row's event and state; a task run's
		// state-change events carry the task run itself, which the row's
		// resource names (get_task_runs has the rest).
		case "validated_state", "initial_state", "intended", "task_run":
			continue
		}
		rest[k] = v
	}
	if len(rest) == 0 {
		return nil
	}
	// A string repeated inside another (a reason quoting the validation
	// error) is said once.
	keys := slices.Sorted(maps.Keys(rest))
	for _, k := range keys {
		long, _ := rest[k].(string)
		for _, k2 := range keys {
			if short, ok := p[k2].(string); ok && k2 != k && len(short) >= 20 && len(short) < len(long) && strings.Contains(long, short) {
				long = strings.Replace(long, short, "…(see "+k2+")", 1)
			}
		}
		if long != "" {
			rest[k] = long
		}
	}
	if b, err := json.Marshal(rest); err == nil && len(b) > eventPayloadBudget {
		for _, k := range eventPayloadExtras {
			delete(rest, k)
		}
	}
	// Shorten the longest string until the payload fits: the decisive text
	// (a failure reason) is usually in a string, often at its end, and
	// cutting only the longest keeps the others whole.
	for range 8 {
		b, err := json.Marshal(rest)
		if err != nil {
			break
		}
		over := len(b) - eventPayloadBudget
		if over <= 0 {
			return json.RawMessage(b)
		}
		longest, n := "", 0
		for k, v := range rest {
			if s, ok := v.(string); ok && (len(s) > n || len(s) == n && k < longest) {
				longest, n = k, len(s)
			}
		}
		if n <= 40 {
			break
		}
		rest[longest] = clipMiddle(rest[longest].(string), max(40, n-over-30))
	}
	return clipJSON(rest, eventPayloadBudget)
}

// clipMiddle cuts s to about max bytes keeping its head and its tail, where
// error texts put the decisive part.
func clipMiddle(s string, max int) string {
	if len(s) <= max {
		return s
	}
	head, tail := max/2, len(s)-max/2
	for head > 0 && !utf8.RuneStart(s[head]) {
		head--
	}
	for tail < len(s) && !utf8.RuneStart(s[tail]) {
		tail++
	}
	return s[:head] + "…[" + strconv.Itoa(tail-head) + " chars cut]…" + s[tail:]
}
