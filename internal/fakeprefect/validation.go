package fakeprefect

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/prefect-mcp/prefect-mcp/internal/openapi"
)

// fieldError is one pydantic-style problem the fake detects itself (path and
// query parameters, limits the document does not encode).
type fieldError struct {
	typ   string
	loc   []any
	msg   string
	input any
	ctx   map[string]any
}

// unprocessable builds Prefect's 422 answer for problems found by the fake.
func unprocessable(body []byte, problems ...fieldError) *httpError {
	details := make([]openapi.Detail, 0, len(problems))
	for _, p := range problems {
		details = append(details, openapi.Detail{Type: p.typ, Loc: p.loc, Msg: p.msg, Input: p.input, Ctx: p.ctx})
	}
	verr := &openapi.ValidationError{Subject: "request", Details: details}
	return &httpError{status: http.StatusUnprocessableEntity, body: verr.PrefectResponse(requestBodyEcho(body))}
}

// validationFailure turns an openapi validation error into Prefect's 422.
func validationFailure(err error, body []byte) error {
	var verr *openapi.ValidationError
	if errors.As(err, &verr) {
		return &httpError{status: http.StatusUnprocessableEntity, body: verr.PrefectResponse(requestBodyEcho(body))}
	}
	return err
}

// requestBodyEcho is what FastAPI puts in "request_body": the decoded JSON,
// or the raw text when it is not JSON.
func requestBodyEcho(body []byte) any {
	if len(body) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return string(body)
	}
	return v
}
