// End-to-end check of prefect-mcp's Prefect Cloud OAuth mode with the
// official TypeScript MCP SDK as the client: StreamableHTTPClientTransport
// with the SDK's ClientCredentialsProvider. The transport's own 401 handling
// must discover the protected-resource metadata from WWW-Authenticate, then
// the authorization server metadata, obtain a token from the test
// authorization server (e2e/oauthstack) and call tools with it.
//
//   MCP_URL=http://127.0.0.1:P/mcp OAUTH_STACK='<oauthstack JSON line>' node ts-oauth-client.mjs
//
// Prints one line per check and a closing summary line; exits 1 on failure.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { harness, assert, text } from "./harness.mjs";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ClientCredentialsProvider } from "@modelcontextprotocol/sdk/client/auth-extensions.js";

const label = process.env.E2E_LABEL || "ts-oauth-client";
const { requireEnv, check, crash, finish } = harness(label);
const SCOPE = "prefect-cloud:workspaces";
const mcpURL = requireEnv("MCP_URL");
const stack = JSON.parse(requireEnv("OAUTH_STACK"));


// Every HTTP exchange the transport and its auth flow make, in order. Only
// the scheme of Authorization and the names of token-request fields are
// kept: no secret or token is recorded.
const exchanges = [];
async function recordingFetch(input, init) {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const headers = new Headers(input instanceof Request ? input.headers : undefined);
  new Headers(init?.headers).forEach((v, k) => headers.set(k, v));
  const method = init?.method ?? (input instanceof Request ? input.method : "GET");
  let form;
  if (init?.body instanceof URLSearchParams) {
    form = Object.fromEntries([...init.body.entries()].map(([k, v]) => [k, k === "client_secret" ? "<redacted>" : v]));
  }
  const response = await fetch(input, init);
  exchanges.push({
    method,
    url: url.href,
    path: url.pathname,
    origin: url.origin,
    auth: (headers.get("authorization") ?? "").split(" ")[0],
    form,
    status: response.status,
    wwwAuthenticate: response.headers.get("www-authenticate") ?? "",
  });
  return response;
}

async function stats() {
  const res = await fetch(stack.stats_url);
  assert(res.ok, `stats: HTTP ${res.status}`);
  return res.json();
}

const provider = new ClientCredentialsProvider({
  clientId: stack.client_id,
  clientSecret: stack.client_secret,
  expectedIssuer: stack.auth_base,
  scope: SCOPE,
  clientName: "prefect-mcp-e2e",
});

let client;
try {
  client = new Client({ name: "prefect-mcp-e2e-oauth", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(mcpURL), {
    authProvider: provider,
    fetch: recordingFetch,
  });
  await client.connect(transport);
  const mcpOrigin = new URL(mcpURL).origin;
  const authOrigin = new URL(stack.auth_base).origin;

  await check("the first MCP request, without a token, got 401 naming the resource metadata", async () => {
    const first = exchanges[0];
    assert(first && first.origin === mcpOrigin && first.method === "POST", `first exchange: ${JSON.stringify(first)}`);
    assert(first.status === 401 && first.auth === "", `first MCP request: status ${first.status}, auth ${first.auth || "none"}`);
    const want = `resource_metadata="${mcpOrigin}/.well-known/oauth-protected-resource/mcp"`;
    assert(first.wwwAuthenticate.includes(want) && first.wwwAuthenticate.includes(SCOPE), `WWW-Authenticate: ${first.wwwAuthenticate}`);
  });

  await check("the SDK discovered the protected-resource and authorization server metadata", async () => {
    const prm = exchanges.find((e) => e.origin === mcpOrigin && e.path === "/.well-known/oauth-protected-resource/mcp");
    assert(prm?.status === 200, `protected-resource metadata: ${JSON.stringify(prm)}`);
    const asm = exchanges.find((e) => e.origin === authOrigin && e.path === "/.well-known/oauth-authorization-server");
    assert(asm?.status === 200, `authorization server metadata: ${JSON.stringify(asm)}`);
    assert(exchanges.indexOf(prm) < exchanges.indexOf(asm), "authorization server metadata fetched before the resource metadata");
  });

  await check("the token came from the test authorization server's token endpoint (client credentials, Basic, RFC 8707 resource)", async () => {
    const tok = exchanges.filter((e) => e.origin === authOrigin && e.path === "/auth/mcp/oauth/token");
    assert(tok.length === 1, `${tok.length} token requests`);
    const [t] = tok;
    assert(t.method === "POST" && t.status === 200 && t.auth === "Basic", `token request: ${JSON.stringify(t)}`);
    assert(t.form?.grant_type === "client_credentials" && t.form?.scope === SCOPE, `token form: ${JSON.stringify(t.form)}`);
    assert(t.form?.resource === mcpURL, `resource ${t.form?.resource}, want ${mcpURL}`);
    assert(!("client_secret" in t.form), "the client secret was sent in the body");
    const s = await stats();
    assert(s.token_requests === 1 && s.metadata_requests >= 1, `authorization server counts: ${JSON.stringify(s)}`);
    const later = exchanges.slice(exchanges.indexOf(t) + 1).filter((e) => e.origin === mcpOrigin);
    assert(later.length > 0 && later.every((e) => e.auth === "Bearer" && e.status !== 401),
      `MCP requests after the token: ${JSON.stringify(later.map((e) => [e.auth, e.status]))}`);
  });

  await check("list_authorized_workspaces lists the granted workspace only", async () => {
    const res = await client.callTool({ name: "list_authorized_workspaces", arguments: {} });
    const body = text(res);
    assert(!res.isError, `isError: ${body}`);
    assert(body.includes(stack.workspace_id) && body.includes("acme/demo"), `granted workspace missing: ${body.slice(0, 400)}`);
    assert(!body.includes(stack.foreign_workspace_id) && !body.includes("globex"), `foreign workspace listed: ${body.slice(0, 400)}`);
  });

  await check("get_flows returns the demo flows through the token", async () => {
    const res = await client.callTool({ name: "get_flows", arguments: { limit: 20 } });
    const body = text(res);
    assert(!res.isError, `isError: ${body}`);
    const names = (JSON.parse(body).flows ?? []).map((f) => f.name);
    assert(names.includes("etl-pipeline"), `etl-pipeline missing from ${names.join(",")}`);
    const s = await stats();
    assert((s.workspace_requests?.[stack.workspace_id] ?? 0) > 0, `the demo workspace got no request: ${JSON.stringify(s)}`);
  });

  await check("a workspace outside the grant is a tool error naming list_authorized_workspaces, with no Cloud request", async () => {
    const before = (await stats()).workspace_requests?.[stack.foreign_workspace_id] ?? 0;
    const res = await client.callTool({
      name: "get_flows",
      arguments: { limit: 5, workspace_id: stack.foreign_workspace_id },
    });
    const body = text(res);
    assert(res.isError === true, `expected isError, got: ${body.slice(0, 300)}`);
    assert(body.includes("list_authorized_workspaces"), `error does not name list_authorized_workspaces: ${body}`);
    assert(!body.includes("globex-secret-flow"), "the foreign workspace's data leaked");
    const s = await stats();
    const after = s.workspace_requests?.[stack.foreign_workspace_id] ?? 0;
    assert(after === before, `the foreign workspace received ${after - before} request(s)`);
    assert(s.writes === 0, `writes reached the fake Cloud: ${s.writes}`);
  });

  await check("no secret or token in any tool result", async () => {
    const res = await client.callTool({ name: "get_identity", arguments: {} });
    const body = text(res);
    assert(!body.includes(stack.client_secret), "the client secret appears in get_identity");
    const tokens = provider.tokens();
    assert(tokens?.access_token && !body.includes(tokens.access_token), "the access token appears in get_identity");
  });

  await check("a wrong client secret is refused by the token endpoint (invalid_client), so no connection", async () => {
    const wrong = new Client({ name: "prefect-mcp-e2e-oauth-wrong", version: "1.0.0" });
    const badProvider = new ClientCredentialsProvider({
      clientId: stack.client_id,
      clientSecret: `wrong-${stack.client_secret}`,
      expectedIssuer: stack.auth_base,
      scope: SCOPE,
    });
    let error;
    try {
      await wrong.connect(new StreamableHTTPClientTransport(new URL(mcpURL), { authProvider: badProvider }));
    } catch (err) {
      error = err;
    } finally {
      await wrong.close().catch(() => {});
    }
    assert(error, "connected with a wrong client secret");
    const msg = `${error?.name ?? ""} ${error?.message ?? error}`;
    assert(/invalid_client|client authentication failed/i.test(msg), `unexpected error: ${msg}`);
    assert(!msg.includes(stack.client_secret), "the error contains the client secret");
  });
} catch (err) {
  crash(err);
  console.log(`       exchanges: ${JSON.stringify(exchanges.map((e) => [e.method, e.path, e.status, e.auth]))}`);
} finally {
  await client?.close().catch(() => {});
}

finish();
