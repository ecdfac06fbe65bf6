package prefect

// WithoutRetries returns a copy of c that makes exactly one attempt per
// request. Health probes use it: a retry would hide the very failure (a 503,
// a reset) they exist to report, and would stretch their latency.
func (c *Client) WithoutRetries() *Client {
	clone := *c
	clone.retry.MaxAttempts = 1
	return &clone
}
