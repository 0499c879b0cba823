// One measured run of bench:check, in a fresh Node process without ts-node: the check child runs the
// compiled code a user runs (bench/check.ts compiles src/ into .bench-build/ first), so neither heap
// carries the TypeScript compiler. Modules load before the clock starts, in both kinds.
//
//   node bench/check-child.js <parse|check> <file> <build dir>
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const [mode, file, build] = process.argv.slice(2);
if ((mode !== 'parse' && mode !== 'check') || !file || !build) {
  process.stderr.write('usage: node bench/check-child.js <parse|check> <file> <build dir>\n');
  process.exit(2);
}
const { loadAll } = require('js-yaml');
const { runCheck } = mode === 'check' ? require(path.join(build, 'cli', 'check-command.js')) : {};
const { toJson } = mode === 'check' ? require(path.join(build, 'check', 'report.js')) : {};

const rssBefore = process.memoryUsage().rss;
const cpuBefore = process.cpuUsage();
const start = performance.now();
let counts;
if (mode === 'parse') {
  // The floor: read the file and parse it with js-yaml, nothing more.
  const docs = loadAll(fs.readFileSync(file, 'utf8'));
  counts = { objects: docs.length, deployments: docs.filter((d) => d && d.kind === 'Deployment').length, errors: 0 };
} else {
  // What `check <file> --format json` does: read, parse, audit, and the JSON report.
  const result = runCheck([file], {});
  const json = JSON.stringify(toJson(result, 'error'), null, 2);
  if (json.length === 0) throw new Error('no report');
  counts = { objects: result.objects, deployments: result.deployments, errors: result.findings.filter((f) => f.severity === 'error').length };
}
const ms = performance.now() - start;
const cpu = process.cpuUsage(cpuBefore);
process.stdout.write(JSON.stringify({
  ms,
  cpuMs: (cpu.user + cpu.system) / 1000,
  maxRssBytes: process.resourceUsage().maxRSS * 1024,
  rssBeforeBytes: rssBefore,
  ...counts,
}) + '\n');
