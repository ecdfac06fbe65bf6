// Shared check harness of the e2e clients: one line per check, a closing
// "LABEL: N passed, M failed" line, exit 1 on any failure.
export function harness(label) {
  let passed = 0;
  let failed = 0;
  return {
    requireEnv(name) {
      const v = process.env[name];
      if (!v) {
        console.error(`${label}: ${name} is not set`);
        process.exit(2);
      }
      return v;
    },
    async check(name, fn) {
      try {
        await fn();
        passed++;
        console.log(`  ok   ${label}: ${name}`);
      } catch (err) {
        failed++;
        console.log(`  FAIL ${label}: ${name}: ${err?.message ?? err}`);
      }
    },
    // crash records a failure outside any check (setup went wrong).
    crash(err) {
      failed++;
      console.log(`  FAIL ${label}: ${err?.stack ?? err}`);
    },
    finish() {
      console.log(`${label}: ${passed} passed, ${failed} failed`);
      process.exit(failed === 0 ? 0 : 1);
    },
  };
}

export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

// text joins a tool result's text content.
export function text(result) {
  return (result.content ?? [])
    .filter((c) => c.type === "text")
    .map((c) => c.text)
    .join("\n");
}
