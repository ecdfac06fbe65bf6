package diagnosis

// AutomationDiagnosis is diagnose_automation's answer.
type AutomationDiagnosis struct {
	Conclusion string             `json:"conclusion"`
	Cause      string             `json:"cause"`
	Automation AutomationBrief    `json:"automation"`
	Evidence   AutomationEvidence `json:"evidence"`
	NextSteps  []string           `json:"next_steps,omitempty"`
	RuledOut   []string           `json:"ruled_out,omitempty"`
}

// AutomationBrief names the automation; its trigger and actions in words.
type AutomationBrief struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Enabled bool     `json:"enabled"`
	Trigger string   `json:"trigger"`
	Actions []string `json:"actions,omitempty"`
}

// AutomationEvidence is what the verdict rests on: the trigger's events
// counted the way Prefect counts them, and the automation's own events.
type AutomationEvidence struct {
	Window         string          `json:"window"`
	Matching       int             `json:"matching_events"`
	MatchingMore   bool            `json:"matching_events_truncated,omitempty"`
	Needed         int             `json:"threshold,omitempty"`
	BestWindow     *WindowCount    `json:"best_window,omitempty"`
	AfterEvents    int             `json:"after_events,omitempty"`
	Examples       []string        `json:"examples,omitempty"`
	Triggered      int             `json:"times_triggered"`
	LastTriggered  string          `json:"last_triggered,omitempty"`
	TriggeredBy    string          `json:"last_triggering_event,omitempty"`
	Resolved       int             `json:"times_resolved,omitempty"`
	ActionsRun     int             `json:"actions_executed,omitempty"`
	ActionFailures []ActionFailure `json:"action_failures,omitempty"`
}

// WindowCount is the fullest window of matching events (per for_each
// bucket), or for a proactive trigger the window that came up short.
type WindowCount struct {
	Count int    `json:"count"`
	Key   string `json:"for_each_key,omitempty"`
	From  string `json:"from,omitempty"`
	To    string `json:"to,omitempty"`
}

// ActionFailure is one failed action, grouped by action and reason.
type ActionFailure struct {
	At         string `json:"at"`
	Type       string `json:"action_type"`
	Action     string `json:"action"`
	Reason     string `json:"reason"`
	Validation string `json:"validation_error,omitempty"`
	Status     int    `json:"status_code,omitempty"`
	Count      int    `json:"times,omitempty"`
}
