package fakeprefect

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// Account-level identity served by WithCloud.
const (
	CloudUserEmail  = "demo.user@example.com"
	CloudUserHandle = "demo-user"
	CloudUserID     = "5b6f1c1e-3c0a-4a53-9d9e-2f0c8b7a1d01"
)

// accountRoute names an account-level Prefect Cloud read, "" if unknown.
func (s *Server) accountRoute(rel string) string {
	accountPath := "/accounts/" + s.cfg.cloud.account
	switch rel {
	case "/me/":
		return "GET /me/"
	case accountPath:
		return "GET /accounts/{account_id}"
	case accountPath + "/workspaces/" + s.cfg.cloud.workspace:
		return "GET /accounts/{account_id}/workspaces/{workspace_id}"
	case accountPath + "/rate-limits/usage":
		return "GET /accounts/{account_id}/rate-limits/usage"
	}
	return ""
}

// serveAccount answers the account-level Prefect Cloud reads under /api.
func (s *Server) serveAccount(w http.ResponseWriter, r *http.Request, route string) {
	c := s.cfg.cloud
	if route == "" {
		writeJSON(w, http.StatusNotFound, map[string]any{"detail": "Not Found"})
		return
	}
	if r.Method != http.MethodGet {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"detail": "Method Not Allowed"})
		return
	}
	if s.cfg.intercept != nil && s.cfg.intercept(w, r, route) {
		return
	}
	switch route {
	case "GET /me/":
		if strings.HasPrefix(bearer(r), "pnb_") {
			writeJSON(w, http.StatusForbidden, map[string]any{"detail": "Only users (not service accounts) can access this endpoint."})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"id": CloudUserID, "email": CloudUserEmail, "handle": CloudUserHandle,
			"first_name": "Demo", "last_name": "User",
		})
	case "GET /accounts/{account_id}":
		writeJSON(w, http.StatusOK, map[string]any{
			"id": c.account, "name": "Demo Account", "handle": "demo-account",
			"plan_type": "PRO", "plan_tier": "pro", "features": []string{"automations", "work-pools"},
			"automations_limit": 50, "work_pool_limit": 10, "mex_work_pool_limit": 1,
			"run_retention_days": 30, "audit_log_retention_days": 30, "self_serve": true,
		})
	case "GET /accounts/{account_id}/workspaces/{workspace_id}":
		writeJSON(w, http.StatusOK, map[string]any{
			"id": c.workspace, "name": "Production", "handle": "production", "description": "Demo workspace",
		})
	default:
		s.dataMu.RLock()
		usage := rateLimitUsage(&view{data: s.data, now: s.cfg.clock()}, r, c.account)
		s.dataMu.RUnlock()
		writeJSON(w, http.StatusOK, usage)
	}
}

func bearer(r *http.Request) string {
	scheme, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if strings.EqualFold(scheme, "bearer") {
		return cred
	}
	return ""
}

// rateLimitUsage builds Cloud's usage report from rate_limit_usage objects
// shaped {"key", "minute", "limit", "usage", "requested", "granted"}.
func rateLimitUsage(v *view, r *http.Request, account string) map[string]any {
	q := r.URL.Query()
	until, ok := parseTime(q.Get("until"))
	if !ok {
		until = v.now.UTC()
	}
	since, ok := parseTime(q.Get("since"))
	if !ok {
		since = until.Add(-time.Hour)
	}
	wanted := q["keys"]
	var minutes []string
	rows := map[string]map[string]map[string]any{} // key -> minute -> row
	for _, r := range v.all(RateLimitUsage) {
		obj := r.whole()
		at, ok := parseTime(obj["minute"])
		key := str(obj, "key")
		if !ok || at.Before(since) || at.After(until) || (len(wanted) > 0 && !slices.Contains(wanted, key)) {
			continue
		}
		minute := at.UTC().Format(time.RFC3339)
		if !slices.Contains(minutes, minute) {
			minutes = append(minutes, minute)
		}
		if rows[key] == nil {
			rows[key] = map[string]map[string]any{}
		}
		rows[key][minute] = obj
	}
	slices.Sort(minutes)
	keys := map[string]any{}
	for key, byMinute := range rows {
		series := map[string][]any{"limit": {}, "usage": {}, "requested": {}, "granted": {}}
		for _, m := range minutes {
			for name := range series {
				var val any = 0
				if row, ok := byMinute[m]; ok && row[name] != nil {
					val = row[name]
				}
				series[name] = append(series[name], val)
			}
		}
		keys[key] = series
	}
	if minutes == nil {
		minutes = []string{}
	}
	return map[string]any{
		"account": account, "since": since.UTC().Format(time.RFC3339), "until": until.UTC().Format(time.RFC3339),
		"minutes": minutes, "keys": keys,
	}
}
