package tools

import (
	"context"
	"fmt"
	"strings"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

// maxCandidates bounds the list shown when a name matches several objects.
const maxCandidates = 5

// resolveFlowRun accepts a flow run's id or its name (names are generated,
// like "crimson-falcon", and usually unique; when not, the error lists the
// candidates so the model can pick an id).
func (c *call) resolveFlowRun(ctx context.Context, field, ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return "", badInput("%s is required: a flow run id or name", field)
	}
	if prefect.IsUUID(ref) {
		return strings.ToLower(ref), nil
	}
	var runs []prefect.FlowRun
	body := prefect.Body{"flow_runs": prefect.NameIn(ref), "sort": "START_TIME_DESC", "limit": maxCandidates + 1}
	if err := c.target.Client.Post(ctx, "/flow_runs/filter", body, &runs); err != nil {
		return "", err
	}
	switch len(runs) {
	case 0:
		return "", &notFound{msg: fmt.Sprintf("no flow run is named %q; %s takes a flow run id or its exact name (find runs with "+ToolGetFlowRuns+" or "+ToolSearch+")", clip(ref, 80), field)}
	case 1:
		return runs[0].ID, nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d flow runs are named %q; pass one id as %s:", len(runs), clip(ref, 80), field)
	for i, r := range runs {
		if i == maxCandidates {
			b.WriteString(" …")
			break
		}
		fmt.Fprintf(&b, " %s (%s, started %s);", r.ID, stateLabel(r.StateType, r.StateName), cmpOr(tsp(r.StartTime), "not started"))
	}
	return "", badInput("%s", strings.TrimSuffix(b.String(), ";"))
}

// poolNameBanned are the characters Prefect refuses in flow, work pool and
// work queue names: the pattern ^[^/%&><]+$ of FlowCreate, WorkPoolCreate
// and WorkQueueCreate in its OpenAPI document.
const poolNameBanned = "/%&><"

// pathName checks a name bound for a URL path (its length is bounded with
// every argument's, maxStringArg): a name Prefect refuses (banned, "" when
// it has no rule) or one that would move the path (/, \, . or ..) names
// nothing we can read, so the answer is "no <kind> is named …", never a
// refused request.
func pathName(kind, v, banned, list string) error {
	if banned != "" && strings.ContainsAny(v, banned) {
		return &notFound{msg: fmt.Sprintf("no %s is named %q: Prefect %s names cannot contain any of %s; list them with %s",
			kind, clip(v, 80), kind, strings.Join(strings.Split(banned, ""), " "), list)}
	}
	if v == "." || v == ".." || strings.ContainsAny(v, `/\`) {
		return &notFound{msg: fmt.Sprintf("no %s is named %q that this server can read: it never sends a name holding / or \\ (or . and ..) in a URL path; list them with %s",
			kind, clip(v, 80), list)}
	}
	return nil
}

// resolveDeployment accepts a deployment id, its "flow/deployment" slug (as
// `prefect deployment run` takes it) or a deployment name when unique.
func (c *call) resolveDeployment(ctx context.Context, field, ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" || prefect.IsUUID(ref) {
		return strings.ToLower(ref), nil
	}
	if flow, name, ok := strings.Cut(ref, "/"); ok {
		if err := pathName("flow", flow, poolNameBanned, ToolGetFlows); err != nil {
			return "", err
		}
		if err := pathName("deployment", name, "", ToolGetDeployments); err != nil {
			return "", err
		}
		var d prefect.Deployment
		err := c.target.Client.Get(ctx, prefect.Path("/deployments/name/%s/%s", flow, name), nil, &d)
		if prefect.IsNotFound(err) {
			return "", &notFound{msg: fmt.Sprintf("no deployment %q (flow/deployment); list deployments with %s", clip(ref, 120), ToolGetDeployments)}
		}
		if err != nil {
			return "", err
		}
		return d.ID, nil
	}
	var deps []prefect.Deployment
	body := prefect.Body{"deployments": prefect.NameIn(ref), "limit": maxCandidates + 1}
	if err := c.target.Client.Post(ctx, "/deployments/filter", body, &deps); err != nil {
		return "", err
	}
	switch len(deps) {
	case 0:
		return "", &notFound{msg: fmt.Sprintf("no deployment is named %q; %s takes a deployment id or \"flow/deployment\"", clip(ref, 80), field)}
	case 1:
		return deps[0].ID, nil
	}
	ids := make([]string, 0, len(deps))
	for _, d := range deps {
		ids = append(ids, d.ID)
	}
	return "", badInput("%d deployments are named %q (of different flows); pass \"flow/deployment\" or one of the ids: %s", len(deps), clip(ref, 80), strings.Join(ids, ", "))
}

// resolveAutomation accepts an automation's id or its exact name.
func (c *call) resolveAutomation(ctx context.Context, field, ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return "", badInput("%s is required: an automation id or name", field)
	}
	if prefect.IsUUID(ref) {
		return strings.ToLower(ref), nil
	}
	var found []prefect.Automation
	body := prefect.Body{"automations": prefect.NameIn(ref), "limit": maxCandidates + 1}
	if err := c.target.Client.Post(ctx, "/automations/filter", body, &found); err != nil {
		return "", err
	}
	switch len(found) {
	case 0:
		return "", &notFound{msg: fmt.Sprintf("no automation is named %q; list automations with "+ToolGetAutomations, clip(ref, 80))}
	case 1:
		return found[0].ID, nil
	}
	ids := make([]string, 0, len(found))
	for _, a := range found {
		ids = append(ids, a.ID)
	}
	return "", badInput("%d automations are named %q; pass one id as %s: %s", len(found), clip(ref, 80), field, strings.Join(ids, ", "))
}

func cmpOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
