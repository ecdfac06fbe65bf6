package prefect

// RateLimitUsage is GET {cloud api}/accounts/{id}/rate-limits/usage: one
// entry per minute in Minutes and, per operation group in Keys, one entry
// per minute in each series (a series may be shorter than Minutes).
// Operation groups ("runs", "reading-logs", ...) are not API keys.
type RateLimitUsage struct {
	Account string                     `json:"account"`
	Since   string                     `json:"since"`
	Until   string                     `json:"until"`
	Minutes []string                   `json:"minutes"`
	Keys    map[string]RateLimitSeries `json:"keys"`
}

// RateLimitSeries is one operation group's per-minute counters. A minute is
// throttled when Requested exceeds Granted; the difference was denied (429).
type RateLimitSeries struct {
	Limit     []float64 `json:"limit"`
	Usage     []float64 `json:"usage"`
	Requested []float64 `json:"requested"`
	Granted   []float64 `json:"granted"`
}
