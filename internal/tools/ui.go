package tools

import (
	"net/url"
	"strings"
)

// UI routes of the Prefect UI (self-hosted and Cloud share them under their
// base). ui_test.go checks each against the UI's own router.
const (
	uiFlowRun    = "/runs/flow-run/"
	uiTaskRun    = "/runs/task-run/"
	uiDeployment = "/deployments/deployment/"
	uiFlow       = "/flows/flow/"
	uiWorkPool   = "/work-pools/work-pool/"
	uiAutomation = "/automations/automation/"
)

// uiURL links an object in the Prefect UI; empty when the UI is unknown
// (the demo workspace has none).
func (c *call) uiURL(route, key string) string {
	if c.target == nil || c.target.UIURL == "" || key == "" {
		return ""
	}
	return strings.TrimRight(c.target.UIURL, "/") + route + url.PathEscape(key)
}

// uiURLTemplate is uiURL with the key left as {id}: a list says it once
// instead of repeating every row's id in a link.
func (c *call) uiURLTemplate(route string) string {
	if c.target == nil || c.target.UIURL == "" {
		return ""
	}
	return strings.TrimRight(c.target.UIURL, "/") + route + "{id}"
}
