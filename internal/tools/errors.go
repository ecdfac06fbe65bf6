package tools

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
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
		budget    *prefect.BudgetError
	)
	switch {
	case errors.As(err, &tf):
		return tf.msg
	case errors.As(err, &budget):
		return describeBudgetError(budget)
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
		return describeTransportError(transport, t)
	case errors.As(err, &resp):
		if resp.HTML {
			return notTheAPI(fmt.Sprintf("%d on %s %s", resp.Status, resp.Method, resp.Path), false, t)
		}
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

// Explain is the text a tool answers for err: `prefect-mcp config` reports
// its probe with it, so both say the same.
func Explain(err error, t *target.Target) string { return describeError(err, t) }

// notTheAPI explains an answer that is not from the Prefect API: an HTML
// page (the UI, a login proxy, a static file server) or a redirect.
func notTheAPI(what string, redirect bool, t *target.Target) string {
	how := "serves HTML, not the Prefect API"
	if redirect {
		how = "redirects, which the Prefect API never does: it is not the Prefect API"
	}
	msg := "This URL " + how + " (" + what + ")"
	if t != nil {
		msg = fmt.Sprintf("The Prefect API URL in use (%s) %s (%s)", t.APIURL, how, what)
	}
	return msg + ". Prefect API URLs end in /api (e.g. http://127.0.0.1:4200/api" + apiSuggestion(t) + "); a login proxy in front of Prefect must let API requests through. " +
		"Fix PREFECT_API_URL or the active profile (`prefect-mcp config` shows where it comes from and probes it)."
}

// apiSuggestion proposes the URL with /api when the one in use lacks it.
func apiSuggestion(t *target.Target) string {
	if t == nil || looksLikeAPIRoot(t.APIURL) {
		return ""
	}
	return ", here probably " + strings.TrimRight(t.APIURL, "/") + "/api"
}

// looksLikeAPIRoot reports a URL shaped like a Prefect API root: self-hosted
// ".../api", or Cloud ".../api/accounts/{id}/workspaces/{id}".
func looksLikeAPIRoot(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	p := strings.TrimRight(u.Path, "/")
	if strings.HasSuffix(p, "/api") {
		return true
	}
	parts := strings.Split(p, "/")
	n := len(parts)
	return n >= 6 && parts[n-5] == "api" && parts[n-4] == "accounts" && parts[n-2] == "workspaces"
}

func describeAPIError(e *prefect.APIError, t *target.Target) string {
	where := e.Method + " " + e.Path
	if redirect := e.Status >= 300 && e.Status < 400; e.HTML || redirect {
		return notTheAPI(fmt.Sprintf("%d on %s%s", e.Status, where, detailSuffix(e.Detail)), redirect, t)
	}
	if (e.Status == 404 || e.Status == 405) && t != nil && t.Kind != target.Demo && !looksLikeAPIRoot(t.APIURL) {
		return fmt.Sprintf("%d on %s: the Prefect API URL in use (%s) does not end in /api. Prefect API URLs end in /api (here probably %s/api); "+
			"fix PREFECT_API_URL or the active profile (`prefect-mcp config` shows where it comes from and probes it).",
			e.Status, where, t.APIURL, strings.TrimRight(t.APIURL, "/"))
	}
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

func describeTransportError(e *prefect.TransportError, t *target.Target) string {
	switch e.Kind {
	case prefect.KindDNS:
		if isCloudHost(e.APIURL) || (t != nil && t.Kind == target.Cloud) {
			// A Cloud URL is rarely mistyped: the lookup failing means this
			// machine cannot resolve public names (offline, DNS, a proxy).
			return fmt.Sprintf("The Prefect Cloud host in %s could not be resolved (DNS). This is the network, not PREFECT_API_URL: check that this machine is online and its DNS works; "+
				"behind a corporate proxy set HTTPS_PROXY (and NO_PROXY for local hosts) in the server's environment.", e.APIURL)
		}
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

// isCloudHost reports a Prefect Cloud API host (api.prefect.cloud and its
// regional or staging siblings under prefect.cloud).
func isCloudHost(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	h := strings.ToLower(u.Hostname())
	return h == "prefect.cloud" || strings.HasSuffix(h, ".prefect.cloud")
}

func describeBudgetError(e *prefect.BudgetError) string {
	total := fmt.Sprintf("%d MiB", e.Total>>20)
	if e.Busy {
		return fmt.Sprintf("This server's memory budget for Prefect answers (%s, --upstream-budget-mb) is in use by other calls right now, so the answer to %s %s was not read. Retry in a moment, or ask for less (a smaller limit or a tighter filter).", total, e.Method, e.Path)
	}
	return fmt.Sprintf("Prefect's answer to %s %s needs about %d MiB, more than this server's whole memory budget for Prefect answers (%s, --upstream-budget-mb). Narrow the request (a smaller limit or a tighter filter).", e.Method, e.Path, max(e.Need>>20, 1), total)
}
