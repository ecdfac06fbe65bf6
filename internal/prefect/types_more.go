package prefect

import (
	"encoding/json"
	"time"
)

// Response types for variables, modelled on responses captured from
// Prefect 3.8.

// Variable is a row of POST /variables/filter or GET /variables/name/{name}.
// Value is kept raw: it may be any JSON value, and it is only shown when a
// single variable is asked for by name.
type Variable struct {
	ID      string          `json:"id"`
	Created time.Time       `json:"created"`
	Updated time.Time       `json:"updated"`
	Name    string          `json:"name"`
	Value   json.RawMessage `json:"value,omitempty"`
	Tags    []string        `json:"tags,omitempty"`
}
