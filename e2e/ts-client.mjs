// End-to-end check of prefect-mcp's Streamable HTTP endpoint with the official
// TypeScript MCP SDK as the client. Prefect credentials travel in the
// X-Prefect-* request headers, as a multi-tenant deployment receives them.
//
//   MCP_URL=http://127.0.0.1:P/mcp PREFECT_API_URL=http://127.0.0.1:F/api \
//   PREFECT_API_AUTH_STRING=user:pass node ts-client.mjs
//
// Prints one line per check and a closing summary line; exits 1 on failure.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { harness, assert, text } from "./harness.mjs";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const label = process.env.E2E_LABEL || "ts-client";
const { requireEnv, check, crash, finish } = harness(label);
const mcpURL = requireEnv("MCP_URL");
const apiURL = requireEnv("PREFECT_API_URL");
const authString = requireEnv("PREFECT_API_AUTH_STRING");


async function connect(headers) {
  const client = new Client({ name: "prefect-mcp-e2e", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(mcpURL), {
    requestInit: { headers },
  });
  await client.connect(transport);
  return client;
}

const goodHeaders = {
  "X-Prefect-Api-Url": apiURL,
  "X-Prefect-Api-Auth-String": authString,
};

const clients = [];
try {
  const client = await connect(goodHeaders);
  clients.push(client);

  await check("initialize reports the server and the tools capability", async () => {
    const info = client.getServerVersion();
    assert(info?.name, `no serverInfo name: ${JSON.stringify(info)}`);
    assert(client.getServerCapabilities()?.tools, "tools capability missing");
  });

  await check("tools/list offers the core tools, all read-only", async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    for (const want of ["get_flows", "get_flow_runs", "get_deployments", "get_identity"]) {
      assert(names.includes(want), `${want} missing from ${names.join(",")}`);
    }
    const writable = tools.filter((t) => t.annotations?.readOnlyHint !== true).map((t) => t.name);
    assert(writable.length === 0, `tools without readOnlyHint: ${writable.join(",")}`);
    const noSchema = tools.filter((t) => t.inputSchema?.type !== "object").map((t) => t.name);
    assert(noSchema.length === 0, `tools without an object input schema: ${noSchema.join(",")}`);
  });

  await check("get_flows returns the demo flows", async () => {
    const res = await client.callTool({ name: "get_flows", arguments: { limit: 20 } });
    const body = text(res);
    assert(!res.isError, `isError: ${body}`);
    const parsed = JSON.parse(body);
    const names = (parsed.flows ?? []).map((f) => f.name);
    assert(names.includes("etl-pipeline"), `etl-pipeline missing from ${names.join(",")}`);
  });

  await check("get_flow_runs returns runs with flow names and states", async () => {
    const res = await client.callTool({ name: "get_flow_runs", arguments: { limit: 10 } });
    const body = text(res);
    assert(!res.isError, `isError: ${body}`);
    const runs = JSON.parse(body).flow_runs ?? [];
    assert(runs.length > 0, "no flow runs");
    assert(runs.every((r) => r.flow && r.state), `a run lacks flow or state: ${body.slice(0, 300)}`);
    assert(runs.some((r) => r.flow === "etl-pipeline"), `no etl-pipeline run: ${body.slice(0, 300)}`);
  });

  await check("an unknown tool is a JSON-RPC error, not a crash", async () => {
    let threw = false;
    try {
      const res = await client.callTool({ name: "no_such_tool", arguments: {} });
      threw = res.isError === true; // also acceptable: an isError result
    } catch {
      threw = true;
    }
    assert(threw, "calling an unknown tool succeeded");
  });

  await check("a wrong auth string yields an isError result naming 401", async () => {
    const bad = await connect({ ...goodHeaders, "X-Prefect-Api-Auth-String": "user:wrong" });
    clients.push(bad);
    const res = await bad.callTool({ name: "get_flows", arguments: { limit: 5 } });
    const body = text(res);
    assert(res.isError === true, `expected isError, got: ${body.slice(0, 300)}`);
    assert(body.includes("401"), `error does not mention 401: ${body}`);
  });

  await check("an API URL outside --allowed-api-url is refused", async () => {
    const other = await connect({ ...goodHeaders, "X-Prefect-Api-Url": "http://127.0.0.2:9/api" });
    clients.push(other);
    const res = await other.callTool({ name: "get_flows", arguments: { limit: 5 } });
    const body = text(res);
    assert(res.isError === true, `expected isError, got: ${body.slice(0, 300)}`);
  });
} catch (err) {
  crash(err);
} finally {
  for (const c of clients) await c.close().catch(() => {});
}

finish();
