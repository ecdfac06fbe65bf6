package tools

import (
	"strings"

	"github.com/prefect-mcp/prefect-mcp/internal/toolname"
)

// Tool names (package toolname, below the diagnosis rules too). Every text
// that names a tool (descriptions, instructions,
// next steps, error hints) uses these constants, so a mention cannot name a
// tool that does not exist; TestToolMentions checks the texts per
// configuration.
const (
	ToolCountEvents              = toolname.CountEvents
	ToolDiagnoseAutomation       = toolname.DiagnoseAutomation
	ToolDiagnoseFlowRun          = toolname.DiagnoseFlowRun
	ToolDiagnoseLateRuns         = toolname.DiagnoseLateRuns
	ToolDiagnoseStuckRuns        = toolname.DiagnoseStuckRuns
	ToolDocsGetReleaseNotes      = toolname.DocsGetReleaseNotes
	ToolDocsSearchPrefect        = toolname.DocsSearchPrefect
	ToolGetArtifacts             = toolname.GetArtifacts
	ToolGetAutomations           = toolname.GetAutomations
	ToolGetConcurrencyLimits     = toolname.GetConcurrencyLimits
	ToolGetDashboard             = toolname.GetDashboard
	ToolGetDeploymentActivity    = toolname.GetDeploymentActivity
	ToolGetDeployments           = toolname.GetDeployments
	ToolGetFlowRunLogs           = toolname.GetFlowRunLogs
	ToolGetFlowRuns              = toolname.GetFlowRuns
	ToolGetFlows                 = toolname.GetFlows
	ToolGetIdentity              = toolname.GetIdentity
	ToolGetObjectSchema          = toolname.GetObjectSchema
	ToolGetRunStateHistory       = toolname.GetRunStateHistory
	ToolGetServerStatus          = toolname.GetServerStatus
	ToolGetTaskRuns              = toolname.GetTaskRuns
	ToolGetVariables             = toolname.GetVariables
	ToolGetWorkPools             = toolname.GetWorkPools
	ToolGetWorkQueues            = toolname.GetWorkQueues
	ToolListAuthorizedWorkspaces = toolname.ListAuthorizedWorkspaces
	ToolReadEvents               = toolname.ReadEvents
	ToolReviewRateLimits         = toolname.ReviewRateLimits
	ToolSearch                   = toolname.Search
)

// toolNames lists every tool name; TestToolNamesListsTheRegistry checks it against
// the registry.
func toolNames() []string {
	return []string{
		ToolCountEvents, ToolDiagnoseAutomation, ToolDiagnoseFlowRun, ToolDiagnoseLateRuns, ToolDiagnoseStuckRuns,
		ToolDocsGetReleaseNotes, ToolDocsSearchPrefect, ToolGetArtifacts, ToolGetAutomations, ToolGetConcurrencyLimits,
		ToolGetDashboard, ToolGetDeploymentActivity, ToolGetDeployments, ToolGetFlowRunLogs, ToolGetFlowRuns,
		ToolGetFlows, ToolGetIdentity, ToolGetObjectSchema, ToolGetRunStateHistory, ToolGetServerStatus,
		ToolGetTaskRuns, ToolGetVariables, ToolGetWorkPools, ToolGetWorkQueues, ToolListAuthorizedWorkspaces,
		ToolReadEvents, ToolReviewRateLimits, ToolSearch,
	}
}

// Offered is the set of tools one server registers. Texts that name tools
// keep only what it offers: a sentence or next step naming a tool the
// server left out (another scope, a group switched off) is dropped.
type Offered map[string]bool

// Offer returns the set of defs' names.
func Offer(defs []Definition) Offered {
	o := Offered{}
	for _, d := range defs {
		o[d.Name] = true
	}
	return o
}

// Has reports whether the server offers the tool.
func (o Offered) Has(name string) bool { return o[name] }

// names reports whether every tool text names is offered. "search" is
// also an English word, so only names with an underscore are looked for.
func (o Offered) names(text string) bool {
	for _, n := range toolNames() {
		if !strings.Contains(n, "_") || o[n] {
			continue
		}
		if containsWord(text, n) {
			return false
		}
	}
	return true
}

// containsWord reports whether w occurs in s as a whole identifier.
func containsWord(s, w string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], w)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(w)
		if (start == 0 || !isIdent(s[start-1])) && (end == len(s) || !isIdent(s[end])) {
			return true
		}
		i = start + 1
	}
}

func isIdent(b byte) bool {
	return b == '_' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

// Prune drops the sentences of text that name a tool the server does not
// offer. A sentence ends at ". " or a line break.
func (o Offered) Prune(text string) string {
	if o == nil {
		return text
	}
	var b strings.Builder
	dropped := false
	for text != "" {
		end := len(text)
		if i := strings.Index(text, ". "); i >= 0 {
			end = i + 2
		}
		if i := strings.IndexByte(text, '\n'); i >= 0 && i+1 < end {
			end = i + 1
		}
		if s := text[:end]; o.names(s) {
			b.WriteString(s)
		} else {
			dropped = true
		}
		text = text[end:]
	}
	if !dropped {
		return b.String()
	}
	return strings.TrimRight(b.String(), " \n")
}

// steps keeps the next steps that name only offered tools.
func (o Offered) steps(steps []string) []string {
	if o == nil {
		return steps
	}
	out := steps[:0:0]
	for _, s := range steps {
		if o.names(s) {
			out = append(out, s)
		}
	}
	return out
}

// namingTools is a result whose advice may name tools; run keeps only the
// advice naming offered ones.
type namingTools interface {
	forOffered(o Offered) any
}

func (d runDiagnosis) forOffered(o Offered) any {
	d.NextSteps = o.steps(d.NextSteps)
	return d
}

func (d *automationDiagnosis) forOffered(o Offered) any {
	d.NextSteps = o.steps(d.NextSteps)
	return d
}

func (r serverStatusResult) forOffered(o Offered) any {
	r.NextSteps, r.CannotTell = o.steps(r.NextSteps), o.steps(r.CannotTell)
	return r
}

func (r *rateLimitsResult) forOffered(o Offered) any {
	if r.Correlation != nil {
		r.Correlation.Summary = o.Prune(r.Correlation.Summary)
	}
	return r
}

func (r *objectSchemaResult) forOffered(o Offered) any {
	g := make([]string, len(r.Guidance))
	for i, s := range r.Guidance {
		g[i] = o.Prune(s)
	}
	r.Guidance = g
	return r
}
