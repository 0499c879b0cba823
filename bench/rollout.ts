/**
 * Rollout benchmark (`npm run bench:rollout`): synthesizes every example at the current commit and
 * replays rolling restarts of it with `rehearse`, writing the `bench:rollout` section of
 * docs/benchmarks.md, docs/rollout-chart.svg and bench/results/rollout.json.
 *
 * - sensitivity: per example (provider) and app kind, the derived manifest against a fixed LB lag of
 *   0.5 ... 2.0 x its declared D, and the naive manifest (no preStop, grace 30) at 1.0 x D;
 * - launch: 1 replica, the derived shutdown, with and without the launch side (minReadySeconds,
 *   readiness gate), under the provider profile's registration delay;
 * - keep-alive: the app's idle timeout shorter and longer than the LB's.
 *
 *   npx ts-node --project tsconfig.dev.json bench/rollout.ts [--scale 0.1] [--rate 150] [--min-requests 10000]
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { BenchConfig, MAX_LATENCY_MS, ROOT, Row, runScenario, scenarios, synthesizeExamples } from './rollout-runner';
import { replaceMarked, writeSection } from './sections';
import { findHaproxy } from '../src/rehearse/haproxy';
import { LB_PROFILES } from '../src/rehearse/lb-profiles';

export const DEFAULT_CONFIG: BenchConfig = {
  scale: 0.1,
  rate: 150,
  minRequests: 10_000,
  fractions: [0.5, 0.9, 1.0, 1.1, 1.5, 2.0],
  naiveFractions: [1.0],
  apps: ['drain', 'abrupt'],
  launch: true,
  keepAlive: true,
  keepAliveRate: 20,
  keepAliveMinRequests: 3_000,
  keepAliveShortSeconds: 0.3,
  keepAliveNetworkDelayMs: 20,
};

type RowData = Omit<Row, 'series'>;

interface ReportInfo {
  readonly command: string;
  readonly commit: string;
  readonly dirty: boolean;
  readonly date: string;
  readonly totalMinutes: number;
  readonly config: BenchConfig;
  readonly examples: ReadonlyArray<{ name: string; provider: string; sha256: string; d: number; s: number; m: number; drains: boolean }>;
  readonly nproc: string;
  readonly node: string;
  readonly haproxy: string;
}

const pct = (r: RowData) => (r.failed === 0 ? '0' : r.failurePercent.toFixed(2));
const n = (x: number) => x.toLocaleString('en-US');
const sum = (rs: readonly RowData[], f: (r: RowData) => number) => rs.reduce((a, r) => a + f(r), 0);
const appText = (a: string) => (a === 'drain' ? 'drains' : 'exits at once');

function sensitivityTable(rows: readonly RowData[], fractions: readonly number[]): string {
  const groups = [...new Set(rows.filter((r) => r.kind === 'sensitivity').map((r) => `${r.example}|${r.app}`))];
  const head = `| example (provider) | app on stop signal | manifest | ${fractions.map((f) => `lag ${f} D`).join(' | ')} |`;
  const sep = '|' + head.split('|').slice(1, -1).map(() => '---').join('|') + '|';
  const lines: string[] = [];
  for (const g of groups) {
    const [example, app] = g.split('|');
    for (const variant of ['derived', 'naive']) {
      const cells = fractions.map((f) => {
        const r = rows.find((x) => x.kind === 'sensitivity' && x.example === example && x.app === app && x.variant === variant && x.lagFraction === f);
        return r === undefined ? '' : `${n(r.failed)} / ${n(r.requests)} (${pct(r)} %)`;
      });
      if (cells.every((c) => c === '')) continue;
      const any = rows.find((x) => x.example === example)!;
      lines.push(`| ${example} (${any.provider}, D = ${any.d} s) | ${appText(app)} | ${variant} | ${cells.join(' | ')} |`);
    }
  }
  return [head, sep, ...lines].join('\n');
}

function detailTable(rows: readonly RowData[]): string {
  const head = '| kind | example | app | manifest | lag | preStop | grace | replicas | minReadySeconds | readiness gate | app idle / LB idle | rollouts | requests | failed | failure % | errors | pods gone before deregistration | SIGKILLs | manifest sha256 |';
  const sep = '|' + head.split('|').slice(1, -1).map(() => '---').join('|') + '|';
  const lines = rows.map((r) => `| ${r.kind} | ${r.example} | ${appText(r.app)} | ${r.variant} | ${r.lag} | ${r.preStop.replace(/\|/g, '\\|')} | ${r.grace} s | ${r.replicas} `
    + `| ${r.minReadySeconds} | ${r.readinessGate === null ? 'none' : 'yes'} | ${r.appKeepAliveSeconds ?? '-'} s / ${r.lbIdleTimeoutSeconds} s | ${r.rollouts} | ${n(r.requests)} | ${n(r.failed)} | ${pct(r)} `
    + `| ${Object.entries(r.byError).map(([k, v]) => `${k} ${v}`).join(', ') || '-'} | ${r.podsGoneBeforeDeregistration} / ${r.podsTerminated} | ${r.sigkills} | \`${r.manifestSha256.slice(0, 12)}\` |`);
  return [head, sep, ...lines].join('\n');
}

function smallTable(rows: readonly RowData[], kind: 'launch' | 'keep-alive'): string {
  const head = kind === 'launch'
    ? '| example (provider) | manifest | replicas | minReadySeconds | readiness gate | registration (profile) | rollouts | requests | failed | failure % |'
    : '| example (provider) | keep-alive | rollouts | requests | failed | failure % | errors |';
  const sep = '|' + head.split('|').slice(1, -1).map(() => '---').join('|') + '|';
  const lines = rows.filter((r) => r.kind === kind).map((r) => {
    const p = LB_PROFILES[r.provider];
    return kind === 'launch'
      ? `| ${r.example} (${r.provider}) | ${r.variant} | ${r.replicas} | ${r.minReadySeconds} | ${r.readinessGate === null ? 'none' : 'yes'} `
        + `| ${p.registrationReconcile.minSeconds}-${p.registrationReconcile.typicalSeconds} s reconcile + health checks | ${r.rollouts} | ${n(r.requests)} | ${n(r.failed)} | ${pct(r)} |`
      : `| ${r.example} (${r.provider}) | ${r.variant} | ${r.rollouts} | ${n(r.requests)} | ${n(r.failed)} | ${pct(r)} | ${Object.entries(r.byError).map(([k, v]) => `${k} ${v}`).join(', ') || '-'} |`;
  });
  return [head, sep, ...lines].join('\n');
}

/** Where zero drops ends for each derived group: the largest fraction with 0 failures, the smallest with failures. */
function zeroBoundary(rows: readonly RowData[]): string[] {
  const groups = [...new Set(rows.filter((r) => r.kind === 'sensitivity' && r.variant === 'derived').map((r) => `${r.example}|${r.app}`))];
  return groups.map((g) => {
    const [example, app] = g.split('|');
    const rs = rows.filter((r) => r.kind === 'sensitivity' && r.variant === 'derived' && r.example === example && r.app === app)
      .sort((a, b) => a.lagFraction! - b.lagFraction!);
    const lastZero = [...rs].reverse().find((r) => r.failed === 0 && rs.filter((x) => x.lagFraction! <= r.lagFraction!).every((x) => x.failed === 0));
    const firstFail = rs.find((r) => r.failed > 0);
    const upTo = `${example}, app ${appText(app)}: 0 failures up to ${lastZero ? `${lastZero.lagFraction} D` : '(none)'}`;
    return firstFail
      ? `${upTo}; first failures at ${firstFail.lagFraction} D (${n(firstFail.failed)} of ${n(firstFail.requests)}, ${pct(firstFail)} %)`
      : `${upTo}, the largest lag tried: no failures at all`;
  });
}

export function report(rows: readonly RowData[], o: ReportInfo): string {
  const c = o.config;
  const derived = rows.filter((r) => r.kind === 'sensitivity' && r.variant === 'derived' && r.lagFraction! <= 1);
  const naive = rows.filter((r) => r.kind === 'sensitivity' && r.variant === 'naive');
  return `<!-- bench:rollout:start -->
## Rollout benchmark (\`npm run bench:rollout\`)

Rolling restarts of every example, synthesized from the commit below, replayed on one machine with
\`rehearse\`: pods are real demo-app processes, the cloud load balancer is a real HAProxy (no retries,
no redispatch) driven with the provider profile's delays, the kubelet and the Deployment controller
are modelled. The LB's deregistration lag is **not** the manifest's D: it is set to a fraction of D
(sensitivity) or drawn from the provider profile (launch and keep-alive rows).

**Headline:** with the lag at or below the declared D, the derived manifests failed
${n(sum(derived, (r) => r.failed))} of ${n(sum(derived, (r) => r.requests))} requests (${derived.length} rows, each at least
${n(Math.min(...derived.map((r) => r.requests)))} requests); the naive manifests failed ${n(sum(naive, (r) => r.failed))} of
${n(sum(naive, (r) => r.requests))} at lag = D. Where zero drops ends:

${zeroBoundary(rows).map((l) => `- ${l}`).join('\n')}

### Sensitivity: failed / sent at a fixed LB lag, as a fraction of the declared D

${sensitivityTable(rows, c.fractions)}

### The launch race (1 replica; registration from the provider profile and the manifest's health check)

${smallTable(rows, 'launch')}

"naive launch" keeps the derived shutdown but drops \`minReadySeconds\` and any readiness gate (also
the ones the platform would inject), so the old pod can leave the LB before the LB routes to the new
one. The LB lets old pods go after the profile's lag without its tail, capped at 0.9 D (so the
shutdown side cannot drop requests here); the registration delay is drawn from the provider profile,
its tail included.

### Keep-alive: the app's idle timeout against the LB's

${smallTable(rows, 'keep-alive')}

HAProxy reuses its connections to the pods (\`http-reuse always\`). The demo app closes idle
connections after its own timeout, and its close reaches the LB ${c.keepAliveNetworkDelayMs} ms (model;
${c.keepAliveNetworkDelayMs * c.scale} ms real) later, the one-way network delay between LB and pod: a request the LB sends on
that connection in between is reset. That window is far wider than a cloud zone's (about 0.5 ms), so
that the race shows in a few thousand requests; in production it is rarer per request and certain at
volume. Requests arrive as a Poisson process (\`--arrivals poisson\`), ${c.keepAliveRate} per model second, and take
0-0.1 s: with evenly spaced requests every connection would idle for the same time, always shorter or
always longer than the app's timeout, and the race could never happen. These rows run at time scale
${c.scale} for every example; LB lag 0.5 D. The short app timeout (${c.keepAliveShortSeconds} s) is about twice a pod's mean
gap between requests, so connections often idle out; the long one exceeds the LB's idle timeout,
so the app never closes a connection the LB may still reuse.

Limits of the rig: HAProxy has no exact idle timeout for its connections to servers; the rig sets
\`pool-purge-delay\` to the LB's idle timeout, which closes half of the idle connections at each
interval. The rule (keep the app's idle timeout above the LB's) rests on how the LBs document their
idle timeouts (README, "Keep-alive"); these rows show the race itself and that it is the app's close
that causes it.

### Every row

${detailTable(rows)}

- **pods gone before deregistration**: old pods whose process exited while the LB still routed to them.
- Request latency is 0-${MAX_LATENCY_MS / 1000} s (uniform) in the sensitivity and launch rows, 0-0.1 s in the keep-alive rows.

![Requests and failures per second during the first rollout of the derived rows at lag 1.0 D and 1.5 D](rollout-chart.svg)

### Inputs and machine

| | |
|---|---|
| command | \`${o.command}\` (\`npm run bench:rollout\`) |
| commit | \`${o.commit}\`${o.dirty ? ' (with uncommitted changes)' : ''} |
| manifests (sha256 as synthesized) | ${o.examples.map((e) => `${e.name} (${e.provider}, D ${e.d} s, S ${e.s} s, M ${e.m} s, drains ${e.drains}): \`${e.sha256}\``).join('; ')} |
| variants | derived for the other app kind: preStop and grace re-derived by \`ShutdownBudget\`; naive: preStop removed, grace 30 s; every row's manifest hash is in the table above |
| time scale | ${c.scale} (smaller for examples whose D exceeds 10 s, so that D takes at most ${10 * c.scale} real seconds: ${[...new Set(rows.map((r) => `${r.example} ${r.timeScale}`))].join(', ')}); all times are model seconds |
| probe | ${c.rate / c.scale} requests per real second (${c.rate} per model second at scale ${c.scale}), rollouts repeated until ${n(c.minRequests)} requests; keep-alive rows ${c.keepAliveRate / c.scale} per real second until ${n(c.keepAliveMinRequests)} |
| date | ${o.date} |
| CPUs (\`nproc\`) | ${o.nproc} |
| node / haproxy | ${o.node} / ${o.haproxy} |
| wall time | ${o.totalMinutes.toFixed(1)} min for ${rows.length} rows |

Raw numbers: [bench/results/rollout.json](../bench/results/rollout.json).
<!-- bench:rollout:end -->`;
}

/** The README's summary of the run (section `bench:rollout:readme`), every figure from the rows. */
export function readmeSummary(rows: readonly RowData[], o: ReportInfo): string {
  const derived = rows.filter((r) => r.kind === 'sensitivity' && r.variant === 'derived' && r.lagFraction! <= 1.1);
  const naive = rows.filter((r) => r.kind === 'sensitivity' && r.variant === 'naive');
  const naiveLaunch = rows.filter((r) => r.kind === 'launch' && r.variant !== 'derived');
  const derivedLaunch = rows.filter((r) => r.kind === 'launch' && r.variant === 'derived');
  const range = (rs: readonly RowData[]) => {
    const p = rs.map((r) => r.failurePercent);
    return rs.length === 0 ? '-' : `${Math.min(...p).toFixed(0)}-${Math.max(...p).toFixed(0)} %`;
  };
  return `The benchmark (\`npm run bench:rollout\`, ${o.totalMinutes.toFixed(0)} minutes for ${new Set(rows.map((r) => r.example)).size} examples, ${rows.length} rows,
on ${o.nproc} cores, commit \`${o.commit.slice(0, 7)}\`) synthesizes every example at the current commit and replays it
against fixed LB lags of ${Math.min(...o.config.fractions)}-${Math.max(...o.config.fractions)} x its declared D, derived against naive manifests, plus launch
and keep-alive rows. **With the lag up to 1.1 D the derived manifests failed ${n(sum(derived, (r) => r.failed))} of
${n(sum(derived, (r) => r.requests))} requests (${derived.length} rows of at least ${n(Math.min(...derived.map((r) => r.requests)))}); the naive ones failed
${n(sum(naive, (r) => r.failed))} of ${n(sum(naive, (r) => r.requests))} at lag = D. One-replica launches without \`minReadySeconds\` or a
readiness gate failed ${range(naiveLaunch)} of requests; the derived launches ${sum(derivedLaunch, (r) => r.failed) === 0 ? 'none' : `${n(sum(derivedLaunch, (r) => r.failed))}`}.** Where zero
drops ends and what the margin protects: [Headroom](#headroom-what-the-rollout-benchmark-says); full
tables, commit, manifest hashes and the exact command: [docs/benchmarks.md](docs/benchmarks.md).`;
}

/** The README's "what the numbers say now" (section `bench:rollout:headroom-now`). */
export function readmeHeadroomNow(rows: readonly RowData[], o: ReportInfo): string {
  const derived = (max: number) => rows.filter((r) => r.kind === 'sensitivity' && r.variant === 'derived' && r.lagFraction! <= max);
  const naive = rows.filter((r) => r.kind === 'sensitivity' && r.variant === 'naive');
  const upTo11 = derived(1.1);
  const upTo1 = derived(1);
  const p = naive.map((r) => r.failurePercent);
  return `**What the numbers say now** (commit \`${o.commit.slice(0, 7)}\`, ${o.date}): the derived manifests failed
**${n(sum(upTo11, (r) => r.failed))} of ${n(sum(upTo11, (r) => r.requests))} requests at lags up to 1.1 D** (${upTo11.length} rows of ${n(Math.min(...upTo11.map((r) => r.requests)))} or more;
${n(sum(upTo1, (r) => r.failed))} of ${n(sum(upTo1, (r) => r.requests))} up to D). Where zero drops ends, per example and app (the wait is
D + M for an app that drains, D + M + S for one that stops at once):

${zeroBoundary(rows).map((l) => `- ${l}`).join('\n')}

The naive manifests (no preStop, grace 30 s) failed ${p.length === 0 ? '-' : `${Math.min(...p).toFixed(2)}-${Math.max(...p).toFixed(2)} %`} at lag = D.`;
}

/** The README's keep-alive figures (section `bench:rollout:keepalive`). */
export function readmeKeepAlive(rows: readonly RowData[]): string {
  const ka = rows.filter((r) => r.kind === 'keep-alive');
  const short = ka.filter((r) => r.appKeepAliveSeconds !== null && r.appKeepAliveSeconds < r.lbIdleTimeoutSeconds);
  const long = ka.filter((r) => r.appKeepAliveSeconds !== null && r.appKeepAliveSeconds > r.lbIdleTimeoutSeconds);
  const perRow = (rs: readonly RowData[]) => rs.map((r) => `${r.provider} ${n(r.failed)} of ${n(r.requests)}`).join(', ');
  return `In the rollout benchmark's keep-alive rows (three pods, Poisson arrivals, the app's close
reaching the LB 20 model ms late), an app idle timeout shorter than the LB's failed
${n(sum(short, (r) => r.failed))} of ${n(sum(short, (r) => r.requests))} requests (${perRow(short)}); longer than the LB's,
${n(sum(long, (r) => r.failed))} of ${n(sum(long, (r) => r.requests))}. The focused test
(\`test/rehearse/rehearse-launch-keepalive.test.ts\`) shows the same with one pod.`;
}

/** Replace the text between `<!-- NAME:start -->` and `<!-- NAME:end -->`; the markers must exist. */
interface ChartPoint { scenario: string; manifest: string; t: number; outcome: 'ok' | 'failed'; requests: number }

function chartPoints(rows: readonly Row[]): ChartPoint[] {
  const values: ChartPoint[] = [];
  for (const r of rows) {
    if (r.kind !== 'sensitivity' || r.app !== 'drain' || r.variant !== 'derived' || (r.lagFraction !== 1 && r.lagFraction !== 1.5)) continue;
    const end = r.rolloutStarts.length > 1 ? r.rolloutStarts[1] : Infinity;
    for (const b of r.series) {
      if (b.t < -2 || b.t >= end) continue;
      values.push({ scenario: `${r.example}`, manifest: `lag ${r.lagFraction} D`, t: b.t, outcome: 'ok', requests: b.ok });
      values.push({ scenario: `${r.example}`, manifest: `lag ${r.lagFraction} D`, t: b.t, outcome: 'failed', requests: b.failed });
    }
  }
  return values;
}

async function renderChart(values: ChartPoint[], file: string): Promise<void> {
  const vega = await import('vega');
  const vegaLite = await import('vega-lite');
  const names = [...new Set(values.map((v) => v.scenario))];
  const column = (scenario: string) => ({
    title: { text: scenario, fontSize: 12 },
    transform: [{ filter: { field: 'scenario', equal: scenario } }],
    facet: { row: { field: 'manifest', type: 'nominal', title: null, header: { labelFontSize: 12, labelFontWeight: 'bold' } } },
    spec: {
      width: 250,
      height: 110,
      mark: { type: 'area', interpolate: 'step-after' },
      encoding: {
        x: { field: 't', type: 'quantitative', title: 'seconds since the rollout started', axis: { tickMinStep: 1 } },
        y: { field: 'requests', type: 'quantitative', stack: 'zero', title: 'requests / s' },
        color: { field: 'outcome', type: 'nominal', scale: { domain: ['ok', 'failed'], range: ['#9ecae1', '#d62728'] }, title: null },
        order: { field: 'outcome', sort: 'descending' },
      },
    },
  });
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Derived manifests, app drains: one rolling restart with the LB lag at D and at 1.5 D', fontSize: 14 },
    data: { values },
    hconcat: names.map(column),
    resolve: { scale: { y: 'independent', color: 'shared' } },
    config: { legend: { orient: 'top' } },
  };
  const compiled = vegaLite.compile(spec as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  fs.writeFileSync(file, await view.toSVG());
  view.finalize();
}

const ROLLOUT_START = '<!-- bench:rollout:start -->';
const ROLLOUT_END = '<!-- bench:rollout:end -->';

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', cwd: ROOT }).trim();
  } catch (e) {
    return `(${cmd} failed: ${(e as Error).message})`;
  }
}

async function writeDocs(rows: RowData[], chart: ChartPoint[], info: ReportInfo): Promise<void> {
  const docs = path.join(ROOT, 'docs');
  fs.mkdirSync(docs, { recursive: true });
  await renderChart(chart, path.join(docs, 'rollout-chart.svg'));
  writeSection(report(rows, info), ROLLOUT_START, ROLLOUT_END, path.join(docs, 'benchmarks.md'));
  const readme = path.join(ROOT, 'README.md');
  let text = fs.readFileSync(readme, 'utf8');
  text = replaceMarked(text, 'bench:rollout:readme', readmeSummary(rows, info));
  text = replaceMarked(text, 'bench:rollout:keepalive', readmeKeepAlive(rows));
  text = replaceMarked(text, 'bench:rollout:headroom-now', readmeHeadroomNow(rows, info));
  fs.writeFileSync(readme, text);
}

async function main(): Promise<void> {
  const list = (v: string) => v.split(',').map((x) => x.trim()).filter((x) => x !== '');
  const opts = new Command('bench:rollout')
    .option('--scale <x>', 'time scale', Number, DEFAULT_CONFIG.scale)
    .option('--rate <n>', 'probe requests per model second', Number, DEFAULT_CONFIG.rate)
    .option('--min-requests <n>', 'requests per row (rollouts repeat until reached)', Number, DEFAULT_CONFIG.minRequests)
    .option('--fractions <list>', 'lag fractions of D for the sensitivity rows', (v) => list(v).map(Number), [...DEFAULT_CONFIG.fractions])
    .option('--examples <list>', 'only these examples (file names without .ts)', list)
    .option('--kinds <list>', 'only these row kinds (sensitivity, launch, keep-alive)', list)
    .option('--no-write', 'print the rows only, do not touch docs/ or bench/results/')
    .option('--docs-only', 'only regenerate the docs from bench/results/rollout.json')
    .parse(process.argv)
    .opts<{
    scale: number; rate: number; minRequests: number; fractions: number[]; examples?: string[]; kinds?: string[]; write: boolean; docsOnly?: boolean;
  }>();
  const resultsFile = path.join(ROOT, 'bench', 'results', 'rollout.json');
  if (opts.docsOnly) {
    const saved = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
    await writeDocs(saved.rows, saved.chart, saved.info);
    return;
  }
  const config: BenchConfig = { ...DEFAULT_CONFIG, scale: opts.scale, rate: opts.rate, minRequests: opts.minRequests, fractions: opts.fractions };
  if (opts.kinds && opts.write) throw new Error('--kinds is for trying rows out: combine it with --no-write');
  const haproxy = findHaproxy();
  const ac = new AbortController();
  process.on('SIGINT', () => ac.abort());
  process.on('SIGTERM', () => ac.abort());
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-bench-'));
  const rows: Row[] = [];
  const started = Date.now();
  let examples;
  try {
    examples = synthesizeExamples(tmp, opts.examples);
    const all = scenarios(examples, config).filter((sc) => !opts.kinds || opts.kinds.includes(sc.kind));
    process.stderr.write(`${examples.length} example(s): ${examples.map((e) => `${e.name} (${e.provider}, ${e.providerReason})`).join('; ')}; ${all.length} rows\n`);
    for (const [i, sc] of all.entries()) {
      process.stderr.write(`[${i + 1}/${all.length}] ${sc.kind} ${sc.example.name} ${sc.app} ${sc.variant}${sc.lagFraction !== undefined ? ` lag ${sc.lagFraction} D` : ''}: `);
      const row = await runScenario(sc, config, 1000 + i, ac.signal);
      rows.push(row);
      process.stderr.write(`${row.failed} of ${row.requests} failed (${row.wallSeconds.toFixed(0)} s)\n`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const data: RowData[] = rows.map(({ series: _s, ...r }) => r);
  const info: ReportInfo = {
    command: `npx ts-node --project tsconfig.dev.json bench/rollout.ts${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}`,
    commit: sh('git', ['rev-parse', 'HEAD']),
    dirty: sh('git', ['status', '--porcelain', '--', 'src', 'examples', 'bench']) !== '',
    date: new Date().toISOString().slice(0, 10),
    totalMinutes: (Date.now() - started) / 60_000,
    config,
    examples: examples.map((e) => ({ name: e.name, provider: e.provider, sha256: e.sha256, d: e.d, s: e.s, m: e.m, drains: e.drains })),
    nproc: sh('nproc', []),
    node: process.version,
    haproxy: sh(haproxy, ['-v']).split('\n')[0],
  };
  process.stdout.write(report(data, info) + '\n');
  if (!opts.write) return;
  const chart = chartPoints(rows);
  fs.mkdirSync(path.dirname(resultsFile), { recursive: true });
  fs.writeFileSync(resultsFile, JSON.stringify({ info, rows: data, chart }, null, 1) + '\n');
  await writeDocs(data, chart, info);
  process.stderr.write(`wrote docs/benchmarks.md (bench:rollout section), README.md (its bench:rollout sections), docs/rollout-chart.svg, bench/results/rollout.json (${info.totalMinutes.toFixed(1)} min)\n`);
}

if (require.main === module) {
  main().catch((e: Error) => {
    process.stderr.write(`bench failed: ${e.stack ?? e.message}\n`);
    process.exit(1);
  });
}
