// Compares the results of `conformance server -o DIR` with the committed
// baseline of expected failures.
//
//   node conformance-check.mjs RESULTS_DIR BASELINE_TXT LABEL
//
// A scenario fails when any of its checks has status FAILURE (WARNING and
// INFO do not fail it, as in the suite's own summary). Outcome per scenario:
//   passes, not baselined   -> pass
//   fails, baselined        -> pass (expected failure)
//   fails, not baselined    -> FAIL (regression or server bug)
//   passes, baselined       -> FAIL (stale baseline entry: remove it)
// A baselined scenario must fail only because the fixture is missing
// ("unknown tool", "unknown prompt", "Resource not found", "method not
// found"), and must have run at all; otherwise it is a FAIL as well.
// Prints one line per scenario and "LABEL: N passed, M failed"; exits 1 on
// any FAIL.
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";

const [resultsDir, baselinePath, label = "conformance"] = process.argv.slice(2);
if (!resultsDir || !baselinePath) {
  console.error("usage: node conformance-check.mjs RESULTS_DIR BASELINE_TXT [LABEL]");
  process.exit(2);
}

function readBaseline(path) {
  return new Set(
    readFileSync(path, "utf8")
      .split("\n")
      .map((l) => l.replace(/#.*/, "").trim())
      .filter(Boolean),
  );
}

// How the server answers a request for a fixture it does not have.
const fixtureMissing = /unknown (tool|prompt)|Resource not found|method not found/i;

const baseline = readBaseline(baselinePath);
const results = new Map(); // scenario -> {failed, reasons}
for (const dir of readdirSync(resultsDir).sort()) {
  const m = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(dir);
  const file = join(resultsDir, dir, "checks.json");
  if (!m || !existsSync(file)) continue;
  const checks = JSON.parse(readFileSync(file, "utf8"));
  const failures = checks.filter((c) => c.status === "FAILURE");
  const warnings = checks.filter((c) => c.status === "WARNING");
  results.set(m[1], {
    failed: failures.length > 0,
    reasons: failures.map((c) => `${c.id}: ${c.errorMessage ?? JSON.stringify(c.details ?? {})}`),
    warnings: warnings.map((c) => `${c.id}: ${c.errorMessage ?? c.details?.message ?? ""}`),
  });
}

let passed = 0;
let failed = 0;
const expected = [];
for (const [scenario, r] of [...results].sort()) {
  const baselined = baseline.has(scenario);
  if (!r.failed && !baselined) {
    passed++;
    const warn = r.warnings.length ? ` (warnings: ${r.warnings.join("; ")})` : "";
    console.log(`  ok   ${label}: ${scenario}${warn}`);
  } else if (r.failed && baselined) {
    const other = r.reasons.filter((x) => !fixtureMissing.test(x));
    if (other.length) {
      failed++;
      console.log(`  FAIL ${label}: baselined ${scenario} failed for a reason other than a missing fixture: ${other.join("; ")}`);
    } else {
      passed++;
      expected.push(scenario);
    }
  } else if (r.failed) {
    failed++;
    console.log(`  FAIL ${label}: ${scenario} failed and is not in the baseline: ${r.reasons.join("; ")}`);
  } else {
    failed++;
    console.log(`  FAIL ${label}: ${scenario} passed but is listed in ${baselinePath}: remove it from the baseline`);
  }
}
for (const scenario of [...baseline].sort()) {
  if (!results.has(scenario)) {
    failed++;
    console.log(`  FAIL ${label}: baselined scenario ${scenario} did not run (renamed or removed from the suite?)`);
  }
}
if (results.size === 0) {
  failed++;
  console.log(`  FAIL ${label}: no results in ${resultsDir}`);
}
if (expected.length) {
  console.log(`  ok   ${label}: ${expected.length} baselined scenarios failed as expected: ${expected.join(", ")}`);
}
console.log(`${label}: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
