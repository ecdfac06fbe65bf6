package tools

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
	"github.com/prefect-mcp/prefect-mcp/internal/target"
)

// describeError turns any failure into text that tells the model what to do
// next. Texts come from typed errors whose messages never carry credentials.
func describeError(err error, t *target.Target) string {
	var (
		in        *inputError
		nf        *notFound
		api       *prefect.APIError
		transport *prefect.TransportError
		resp      *prefect.ResponseError
		refused   *prefect.WriteRefusedError
		terr      *target.Error
		tf        *toolFailure
	)
	switch {
	case errors.As(err, &tf):
		return tf.msg
	case errors.As(err, &in):
		return "Invalid argument: " + in.msg
	case errors.As(err, &nf):
		return nf.msg
	case errors.As(err, &terr), errors.Is(err, target.ErrNotConfigured):
		return err.Error()
	case errors.Is(err, prefect.ErrOutOfScope):
		return "Refused: " + err.Error() + ". This server allows only the Prefect API URLs its operator listed (--allowed-api-url); this read needs one outside them."
	case errors.As(err, &refused):
		return "Refused: this server is read-only and never sends writes to Prefect (" + refused.Error() + "). Make changes with the Prefect CLI or UI."
	case errors.As(err, &api):
		return describeAPIError(api, t)
	case errors.As(err, &transport):
		return describeTransportError(transport)
	case errors.As(err, &resp):
		if errors.Is(resp, prefect.ErrResponseTooLarge) {
			return fmt.Sprintf("Prefect's answer to %s %s was larger than this server accepts; narrow the request (a smaller limit or a tighter filter).", resp.Method, resp.Path)
		}
		return fmt.Sprintf("Prefect's answer to %s %s could not be read (%v); a proxy in front of Prefect may be interfering. Retry, and check "+ToolGetIdentity+".", resp.Method, resp.Path, resp.Err)
	case errors.Is(err, context.DeadlineExceeded):
		return "The request to Prefect timed out; retry, or narrow it with a smaller limit."
	case errors.Is(err, context.Canceled):
		return "The request was cancelled."
	}
	return "Unexpected error: " + err.Error()
}

func describeAPIError(e *prefect.APIError, t *target.Target) string {
	where := e.Method + " " + e.Path
	switch e.Status {
	case 401:
		hint := "check the API key (PREFECT_API_KEY, or the X-Prefect-Api-Key header on a shared server)"
		if t != nil && t.Auth == target.AuthBasic {
			hint = "check the auth string (PREFECT_API_AUTH_STRING, user:password, or the X-Prefect-Api-Auth-String header)"
		}
		if t != nil && t.Auth == target.AuthNone {
			hint = "this server sends no credentials; set PREFECT_API_KEY (Cloud) or PREFECT_API_AUTH_STRING (self-hosted with auth)"
		}
		if t != nil && t.Auth == target.AuthCloudOAuth {
			hint = "the Prefect Cloud sign-in was not accepted for this workspace; sign in again (reconnect the MCP client) and consent to the workspace"
		}
		return fmt.Sprintf("Prefect rejected the credentials (401 on %s): %s.", where, hint)
	case 403:
		msg := fmt.Sprintf("Prefect refused access (403 on %s)", where)
		if e.Detail != "" {
			msg += ": " + e.Detail
		}
		return msg + ". The credentials lack permission for this read (Prefect RBAC); ask a workspace admin, or use another tool."
	case 404:
		msg := fmt.Sprintf("Not found (404 on %s)", where)
		if e.Detail != "" && e.Detail != "Not Found" {
			msg += ": " + e.Detail
		}
		return msg + ". Check the id or name; list objects with the matching get_* tool."
	case 422:
		return fmt.Sprintf("Prefect rejected the request as invalid (422 on %s): %s. Fix the filter or arguments.", where, e.Detail)
	case 429:
		wait := "a little while"
		if e.RetryAfter > 0 {
			wait = e.RetryAfter.Round(time.Second).String()
		}
		return fmt.Sprintf("Prefect is rate limiting these requests (429 on %s); retry after %s. On Prefect Cloud, "+ToolReviewRateLimits+" shows which operation groups are throttled.", where, wait)
	}
	if e.Status >= 500 {
		return fmt.Sprintf("The Prefect API failed (%d on %s)%s; this is on the server side and may be transient: retry shortly. On a self-hosted server, "+ToolGetServerStatus+" checks its health.", e.Status, where, detailSuffix(e.Detail))
	}
	return fmt.Sprintf("Prefect answered %d on %s%s.", e.Status, where, detailSuffix(e.Detail))
}

func detailSuffix(d string) string {
	if d == "" {
		return ""
	}
	return ": " + d
}

func describeTransportError(e *prefect.TransportError) string {
	switch e.Kind {
	case prefect.KindDNS:
		return fmt.Sprintf("The Prefect API host in %s does not resolve (DNS). Check PREFECT_API_URL or the active Prefect profile (`prefect-mcp config` shows where it comes from).", e.APIURL)
	case prefect.KindRefused:
		return fmt.Sprintf("The Prefect API at %s is unreachable (connection refused). Is the Prefect server running (`prefect server start`)? Check PREFECT_API_URL.", e.APIURL)
	case prefect.KindTLS:
		return fmt.Sprintf("TLS with the Prefect API at %s failed (%v). For a private CA set PREFECT_API_SSL_CERT_FILE; PREFECT_API_TLS_INSECURE_SKIP_VERIFY=true disables verification (not recommended).", e.APIURL, e.Err)
	case prefect.KindTimeout:
		return fmt.Sprintf("The Prefect API at %s did not answer in time. It may be overloaded; retry, narrow the request, or raise PREFECT_API_REQUEST_TIMEOUT.", e.APIURL)
	case prefect.KindCanceled:
		return "The request was cancelled."
	case prefect.KindReset:
		return fmt.Sprintf("The connection to the Prefect API at %s was reset or closed before the answer was complete, even after retries. A proxy or load balancer in front of Prefect may be dropping connections; retry shortly, and check "+ToolGetIdentity+".", e.APIURL)
	}
	return fmt.Sprintf("The Prefect API at %s is unreachable (%s). Check the network path and PREFECT_API_URL.", e.APIURL, e.Kind)
}
