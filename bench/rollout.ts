/**
 * Rollout benchmark: replay rolling restarts of the ALB and CLB examples with `gws rehearse`,
 * naive manifest (no preStop, grace 30) against the derived one, for apps that drain on SIGTERM
 * and apps that exit at once, under each provider's deregistration lag with jitter and requests
 * taking 0-2 s. Writes docs/benchmarks.md, docs/rollout-chart.svg and bench/results/rollout.json.
 *
 *   npx ts-node --project tsconfig.dev.json bench/rollout.ts [--scale 0.5] [--rate 300] [--min-requests 10000]
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { Document, parseAllDocuments } from 'yaml';
import { SigtermMode } from '../src/cli/demo-app';
import { findHaproxy } from '../src/cli/haproxy';
import { parseManifest } from '../src/cli/manifest';
import { RehearsalResult, runRehearsal } from '../src/cli/rehearse';

const ROOT = path.resolve(__dirname, '..');
/** Longest request the demo app serves (model ms): requests take 0-2 s. */
const MAX_LATENCY_MS = 2000;

interface Provider {
  readonly key: 'alb' | 'clb';
  readonly title: string;
  readonly example: string;
  /** Deregistration delay, drain timeout, safety margin (s). */
  readonly d: number;
  readonly s: number;
  readonly m: number;
  readonly ingressClass: string;
}

const PROVIDERS: Provider[] = [
  { key: 'alb', title: 'Alibaba ALB', example: 'dist/examples/alibaba-alb-tea.k8s.yaml', d: 10, s: 30, m: 5, ingressClass: 'alb' },
  { key: 'clb', title: 'Tencent CLB', example: 'dist/examples/tencent-clb-meeting.k8s.yaml', d: 5, s: 50, m: 5, ingressClass: 'qcloud' },
];

type Variant = 'naive' | 'derived';

/** Used only until `npm run examples` has produced dist/examples: the same objects from the formulas. */
function generatedExample(p: Provider): string {
  const ingress = p.ingressClass === 'alb'
    ? 'spec:\n  ingressClassName: alb\n'
    : 'metadata:\n  name: web\n  annotations:\n    kubernetes.io/ingress.class: qcloud\nspec: {}\n';
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${p.key}-web
  annotations:
    graceful-web-service.cdk8s.io/deregistration-delay-seconds: "${p.d}"
    graceful-web-service.cdk8s.io/drain-timeout-seconds: "${p.s}"
    graceful-web-service.cdk8s.io/safety-margin-seconds: "${p.m}"
spec:
  replicas: 3
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 25%, maxUnavailable: 0}
  template:
    spec:
      terminationGracePeriodSeconds: ${p.d + p.s + p.m}
      containers:
        - name: web
          image: nginx
          lifecycle:
            preStop:
              exec:
                command: [/bin/sh, -c, sleep ${p.d}]
          readinessProbe:
            httpGet: {path: /, port: 80}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
${p.ingressClass === 'alb' ? 'metadata:\n  name: web\n' : ''}${ingress}`;
}

/** Rewrite the first Deployment's preStop and grace period, keep every other object as is. */
function withTermination(text: string, preStopSeconds: number | undefined, grace: number): string {
  const docs = parseAllDocuments(text) as Document[];
  const dep = docs.find((d) => d.get('kind') === 'Deployment');
  if (!dep) throw new Error('no Deployment');
  const podSpec = ['spec', 'template', 'spec'];
  dep.setIn([...podSpec, 'terminationGracePeriodSeconds'], grace);
  const lifecycle = [...podSpec, 'containers', 0, 'lifecycle'];
  if (preStopSeconds === undefined) dep.deleteIn(lifecycle);
  else dep.setIn([...lifecycle, 'preStop'], dep.createNode({ exec: { command: ['/bin/sh', '-c', `sleep ${preStopSeconds}`] } }));
  return docs.map((d) => d.toString()).join('---\n');
}

interface Scenario {
  readonly provider: Provider;
  readonly app: SigtermMode;
  readonly variant: Variant;
  readonly manifest: string;
  readonly source: string;
}

function scenarios(tmp: string): Scenario[] {
  const out: Scenario[] = [];
  for (const p of PROVIDERS) {
    const examplePath = path.join(ROOT, p.example);
    const fromExample = fs.existsSync(examplePath);
    const base = fromExample ? fs.readFileSync(examplePath, 'utf8') : generatedExample(p);
    const source = fromExample ? p.example : `generated (D=${p.d}, S=${p.s}, M=${p.m})`;
    for (const app of ['drain', 'abrupt'] as SigtermMode[]) {
      // Draining app: P = D, G = D+S+M (the example as synthesized). Abrupt app: P = D+S, same G.
      const derived = app === 'drain' && fromExample ? base : withTermination(base, app === 'drain' ? p.d : p.d + p.s, p.d + p.s + p.m);
      const naive = withTermination(base, undefined, 30);
      for (const [variant, text] of [['naive', naive], ['derived', derived]] as Array<[Variant, string]>) {
        const file = path.join(tmp, `${p.key}-${app}-${variant}.k8s.yaml`);
        fs.writeFileSync(file, text);
        out.push({ provider: p, app, variant, manifest: file, source });
      }
    }
  }
  return out;
}

interface Row {
  readonly provider: string;
  readonly app: SigtermMode;
  readonly variant: Variant;
  readonly source: string;
  readonly preStop: string;
  readonly grace: number;
  readonly rollouts: number;
  readonly requests: number;
  readonly failed: number;
  readonly failurePercent: number;
  readonly byError: Record<string, number>;
  /** Longest run of consecutive failed requests, model seconds. */
  readonly longestOutageSeconds: number;
  readonly longestOutageRequests: number;
  readonly podsTerminated: number;
  readonly terminationMean: number;
  readonly terminationMax: number;
  /** Per pod: its deregistration lag + the longest request; mean over pods. */
  readonly lowerBoundMean: number;
  /** Pods whose process exited while the LB still routed to them (every request sent there failed). */
  readonly podsGoneBeforeDeregistration: number;
  readonly sigkills: number;
  readonly wallSeconds: number;
  readonly series: RehearsalResult['series'];
  readonly rolloutStarts: number[];
}

function toRow(sc: Scenario, r: RehearsalResult): Row {
  const old = r.pods.filter((p) => p.terminationSeconds !== undefined);
  const bound = (p: typeof old[number]) => p.deregistrationLag! + MAX_LATENCY_MS / 1000;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const hook = r.deployment.preStop;
  return {
    provider: sc.provider.title,
    app: sc.app,
    variant: sc.variant,
    source: sc.source,
    preStop: hook === null ? 'none' : hook.kind === 'sleep' ? `sleep ${hook.seconds}` : hook.command.join(' ').replace('/bin/sh -c ', ''),
    grace: r.deployment.terminationGracePeriodSeconds,
    rollouts: r.rolloutStarts.length,
    requests: r.summary.total,
    failed: r.summary.failed,
    failurePercent: (100 * r.summary.failed) / Math.max(1, r.summary.total),
    byError: Object.fromEntries(Object.entries(r.summary.byError).filter(([, v]) => v > 0)),
    longestOutageSeconds: r.summary.longestFailureRun.durationMs / 1000 / r.params.timeScale,
    longestOutageRequests: r.summary.longestFailureRun.count,
    podsTerminated: old.length,
    terminationMean: mean(old.map((p) => p.terminationSeconds!)),
    terminationMax: Math.max(...old.map((p) => p.terminationSeconds!)),
    lowerBoundMean: mean(old.map(bound)),
    podsGoneBeforeDeregistration: old.filter((p) => p.exited! < p.deregistered!).length,
    sigkills: old.filter((p) => p.sigkill !== undefined).length,
    wallSeconds: r.wallSeconds,
    series: r.series,
    rolloutStarts: r.rolloutStarts,
  };
}

const f1 = (x: number) => x.toFixed(1);

function markdownTable(rows: ReadonlyArray<Omit<Row, 'series'>>): string {
  const head = '| provider | app on SIGTERM | manifest | preStop | grace | rollouts | requests | failed | failure % | longest outage | '
    + 'pod termination mean / max | lower bound (mean) | pods gone before deregistration | SIGKILLs |';
  const sep = '|' + head.split('|').slice(1, -1).map(() => '---').join('|') + '|';
  const lines = rows.map((r) => `| ${r.provider} | ${r.app === 'drain' ? 'drains' : 'exits at once'} | ${r.variant} | ${r.preStop} | ${r.grace} s | ${r.rollouts} `
    + `| ${r.requests.toLocaleString('en-US')} | ${r.failed.toLocaleString('en-US')} | ${r.failed === 0 ? '0' : r.failurePercent.toFixed(2)} `
    + `| ${r.failed === 0 ? '-' : `${r.longestOutageSeconds.toFixed(2)} s (${r.longestOutageRequests} req)`} `
    + `| ${f1(r.terminationMean)} / ${f1(r.terminationMax)} s | ${f1(r.lowerBoundMean)} s | ${r.podsGoneBeforeDeregistration} / ${r.podsTerminated} | ${r.sigkills} |`);
  return [head, sep, ...lines].join('\n');
}

interface ChartPoint {
  readonly scenario: string;
  readonly manifest: Variant;
  readonly t: number;
  readonly outcome: 'ok' | 'failed';
  readonly requests: number;
}

/** Per-second points of each row's first rollout: from 2 s before it started until the second one started. */
function chartPoints(rows: Row[]): ChartPoint[] {
  const values: ChartPoint[] = [];
  for (const r of rows) {
    const end = r.rolloutStarts.length > 1 ? r.rolloutStarts[1] : Infinity;
    const scenario = `${r.provider}, app ${r.app === 'drain' ? 'drains' : 'exits at once'}`;
    for (const b of r.series) {
      if (b.t < -2 || b.t >= end) continue;
      values.push({ scenario, manifest: r.variant, t: b.t, outcome: 'ok', requests: b.ok });
      values.push({ scenario, manifest: r.variant, t: b.t, outcome: 'failed', requests: b.failed });
    }
  }
  return values;
}

async function renderChart(values: ChartPoint[], file: string): Promise<void> {
  // vega and vega-lite are ESM-only with top-level await: load them with a real dynamic import.
  const vega = await import('vega');
  const vegaLite = await import('vega-lite');
  const scenarioNames = [...new Set(values.map((v) => v.scenario))];
  // One column per scenario, naive above derived, sharing the time axis within a column.
  const column = (scenario: string) => ({
    title: { text: scenario, fontSize: 12 },
    transform: [{ filter: { field: 'scenario', equal: scenario } }],
    facet: { row: { field: 'manifest', type: 'nominal', sort: ['naive', 'derived'], title: null, header: { labelFontSize: 12, labelFontWeight: 'bold' } } },
    spec: {
      width: 250,
      height: 110,
      mark: { type: 'area', interpolate: 'step-after' },
      encoding: {
        x: { field: 't', type: 'quantitative', title: 'seconds since the rollout started', axis: { tickMinStep: 1 } },
        y: { field: 'requests', type: 'quantitative', stack: 'zero', title: 'requests / s' },
        color: {
          field: 'outcome',
          type: 'nominal',
          scale: { domain: ['ok', 'failed'], range: ['#9ecae1', '#d62728'] },
          title: null,
        },
        order: { field: 'outcome', sort: 'descending' },
      },
    },
  });
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Requests per second during one rolling restart (3 replicas, maxSurge 1), naive vs derived manifest', fontSize: 14 },
    data: { values },
    hconcat: scenarioNames.map(column),
    resolve: { scale: { y: 'shared', color: 'shared' } },
    config: { legend: { orient: 'top' } },
  };
  const compiled = vegaLite.compile(spec as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  fs.writeFileSync(file, await view.toSVG());
  view.finalize();
}

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
  } catch (e) {
    return `(${cmd} failed: ${(e as Error).message})`;
  }
}

type RowData = Omit<Row, 'series'>;

interface ReportInfo {
  readonly command: string;
  readonly date: string;
  readonly totalMinutes: number;
  readonly scale: number;
  readonly rate: number;
  readonly minRequests: number;
  readonly nproc: string;
  readonly memory: string;
  readonly node: string;
  readonly haproxy: string;
}

async function writeDocs(rows: RowData[], chart: ChartPoint[], info: ReportInfo): Promise<void> {
  fs.mkdirSync(path.join(ROOT, 'docs'), { recursive: true });
  await renderChart(chart, path.join(ROOT, 'docs', 'rollout-chart.svg'));
  fs.writeFileSync(path.join(ROOT, 'docs', 'benchmarks.md'), report(rows, info));
}

async function main(): Promise<void> {
  const opts = new Command('bench:rollout')
    .option('--scale <x>', 'time scale', Number, 0.5)
    .option('--rate <n>', 'probe requests per real second', Number, 300)
    .option('--min-requests <n>', 'requests per row (rollouts repeat until reached)', Number, 10_000)
    .option('--only <key>', 'run only rows whose provider-app-variant contains this')
    .option('--no-write', 'print the table only, do not touch docs/ or bench/results/')
    .option('--docs-only', 'only regenerate docs/benchmarks.md and docs/rollout-chart.svg from bench/results/rollout.json')
    .parse(process.argv)
    .opts<{ scale: number; rate: number; minRequests: number; only?: string; write: boolean; docsOnly?: boolean }>();
  const resultsFile = path.join(ROOT, 'bench', 'results', 'rollout.json');
  if (opts.docsOnly) {
    const saved = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
    await writeDocs(saved.rows, saved.chart, saved.info);
    return;
  }

  const haproxy = findHaproxy();
  // Ctrl-C: stop the running rehearsal, which kills its HAProxy and pods before exiting.
  const ac = new AbortController();
  process.on('SIGINT', () => ac.abort());
  process.on('SIGTERM', () => ac.abort());
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-bench-'));
  const rows: Row[] = [];
  const started = Date.now();
  try {
    for (const [i, sc] of scenarios(tmp).entries()) {
      const key = `${sc.provider.key}-${sc.app}-${sc.variant}`;
      if (opts.only && !key.includes(opts.only)) continue;
      process.stderr.write(`${key}: `);
      const result = await runRehearsal({
        manifest: parseManifest(fs.readFileSync(sc.manifest, 'utf8')),
        deregistrationLagSeconds: sc.provider.d,
        jitterSeconds: 0.3 * sc.provider.d,
        timeScale: opts.scale,
        appLatency: { minMs: 0, maxMs: MAX_LATENCY_MS },
        appMode: sc.app,
        rate: opts.rate,
        minRequests: opts.minRequests,
        seed: 1000 + i,
        haproxyPath: haproxy,
        maxWallSeconds: 600,
        signal: ac.signal,
        log: (l) => { if (/rollout \d+ complete/.test(l)) process.stderr.write('.'); },
      });
      const row = toRow(sc, result);
      rows.push(row);
      process.stderr.write(` ${row.requests} requests, ${row.failed} failed (${row.wallSeconds.toFixed(0)} s)\n`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  process.stdout.write(markdownTable(rows) + '\n');
  if (!opts.write) return;

  const info: ReportInfo = {
    command: `npx ts-node --project tsconfig.dev.json bench/rollout.ts${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}`,
    date: new Date().toISOString().slice(0, 10),
    totalMinutes: (Date.now() - started) / 60_000,
    scale: opts.scale,
    rate: opts.rate,
    minRequests: opts.minRequests,
    nproc: sh('nproc', []),
    memory: sh('free', ['-h']).split('\n')[1]?.replace(/\s+/g, ' ') ?? '?',
    node: process.version,
    haproxy: sh(haproxy, ['-v']).split('\n')[0],
  };
  const chart = chartPoints(rows);
  const data: RowData[] = rows.map(({ series: _s, ...r }) => r);
  fs.mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
  fs.writeFileSync(resultsFile, JSON.stringify({ info, rows: data, chart }, null, 1) + '\n');
  await writeDocs(data, chart, info);
  process.stderr.write(`wrote docs/benchmarks.md, docs/rollout-chart.svg, bench/results/rollout.json (${info.totalMinutes.toFixed(1)} min)\n`);
}

/** "Mem: 23Gi 620Mi 22Gi 8.7Mi 803Mi 22Gi" -> "23Gi total, 620Mi used, 22Gi available". */
function freeSummary(line: string): string {
  const f = line.split(' ');
  return f.length >= 7 ? `${f[1]} total, ${f[2]} used, ${f[6]} available` : line;
}

function report(rows: RowData[], o: ReportInfo): string {
  const table = markdownTable(rows);
  const derived = rows.filter((r) => r.variant === 'derived');
  const naive = rows.filter((r) => r.variant === 'naive');
  const sources = [...new Set(rows.map((r) => `${r.provider}: ${r.source}`))];
  return `# Rollout benchmark

Rolling restarts of the two examples replayed on one machine with \`gws rehearse\`: each pod is a real
demo-app process, the cloud load balancer is a real HAProxy (no retries, no redispatch), the kubelet
(preStop, SIGTERM, SIGKILL at the grace period) and the Deployment and endpoint controllers are modelled,
and \`gws probe\` sends load through HAProxy the whole time. See [the design notes](#how-the-rig-works).

**Result:** the derived manifests failed ${derived.reduce((a, r) => a + r.failed, 0)} of ${derived.reduce((a, r) => a + r.requests, 0).toLocaleString('en-US')} requests
(${derived.map((r) => r.requests.toLocaleString('en-US')).join(', ')} per row); the naive manifests failed
${naive.reduce((a, r) => a + r.failed, 0).toLocaleString('en-US')} of ${naive.reduce((a, r) => a + r.requests, 0).toLocaleString('en-US')}.

${table}

- **failure %** counts every request of the row (warm-up and settle time included);
  **longest outage** is the longest run of consecutive failed requests (in send order), from the first one's
  start to the last one's end, in model seconds. Behind a round-robin LB the failures of a naive rollout
  interleave with successes (only the requests routed to a dead pod fail), so runs are short: the failure
  windows are visible in the chart below.
- **pod termination** is the time from a pod's deletion to its process exit (model seconds).
  Its **lower bound** is what a pod must survive, in the worst case, so that no request is refused or cut:
  its own deregistration lag plus the longest request (2 s). Naive pods exit far below it, long before the
  LB stops routing to them (**pods gone before deregistration**). Derived pods of draining apps exit within
  that last 2 s window: at the end of preStop (P = D, never before the LB let go) or when their last
  in-flight request ends. Derived pods of apps that exit at once wait out the whole drain budget
  (P = D + S): the price of not draining.

![Requests and failures per second during the first rollout of each row](rollout-chart.svg)

## Setup

| | |
|---|---|
| scenarios | ${PROVIDERS.map((p) => `${p.title}: D = ${p.d} s, S = ${p.s} s, M = ${p.m} s`).join('; ')} |
| manifests | ${sources.join('; ')}. Derived for draining apps: preStop sleep D, grace D+S+M (as synthesized). Derived for apps that exit at once: preStop sleep D+S, grace D+S+M. Naive: preStop removed, grace 30. |
| deployment | 3 replicas, maxSurge 25% (1), maxUnavailable 0, readiness probe on \`/\` |
| deregistration lag | per pod uniform in [0.7 D, D] (D is the provider's documented delay, the upper bound the derivation relies on) |
| requests | 0-2 s each (uniform), ${o.rate} req/s, keep-alive connections |
| rollouts per row | repeated back to back until at least ${o.minRequests.toLocaleString('en-US')} requests were sent; each starts after the previous one's old pods exited |
| time scale | ${o.scale}: every model duration (lag, preStop, grace, request latency, probe periods) runs ${1 / o.scale} times faster; all times above are model seconds |

## Machine

| | |
|---|---|
| command | \`${o.command}\` (\`npm run bench:rollout\`) |
| date | ${o.date} |
| CPUs (\`nproc\`) | ${o.nproc} |
| memory (\`free -h\`) | ${freeSummary(o.memory)} |
| node | ${o.node} |
| haproxy | ${o.haproxy} |
| wall time | ${o.totalMinutes.toFixed(1)} min for ${rows.length} rows |

Raw numbers: [bench/results/rollout.json](../bench/results/rollout.json).

## How the rig works

- **Load balancer**: HAProxy on 127.0.0.1 with \`retries 0\`, \`retry-on none\`, no \`option redispatch\` and no
  health checks, so a refused or reset backend reaches the client as a 503/502, as it would behind a cloud LB
  still routing to a dead target. Pods are added with the runtime API (\`add server\` + \`enable server\`) once
  their readiness probe passes, and put in maintenance (\`disable server\`) one deregistration lag after their
  deletion. Each pod listens on its own loopback address (127.x.y.z, like a pod IP), so a new pod can never
  answer on an address the LB still holds for a deleted one.
- **Deployment controller**: scales the new ReplicaSet up within maxSurge and deletes old pods while
  replicas - maxUnavailable pods stay available (ready for minReadySeconds); terminating pods do not count,
  as in Kubernetes. Victims: not-available first, then the most recently ready.
- **Kubelet**: at deletion the preStop hook runs for real (\`/bin/sh -c "sleep N"\` with a \`sleep\` on its PATH
  that scales its argument by the time scale), then SIGTERM, then SIGKILL when the grace period is up:
  the remaining grace after the hook is max(G - whole seconds the hook took, 2), and a hook still running at
  G is abandoned with the one-off 2 s.
- **Apps**: \`gws demo-app\`. Draining apps stop accepting, close idle keep-alive connections and finish
  in-flight requests, then exit; the others die on SIGTERM and cut in-flight requests.
`;
}

main().catch((e: Error) => {
  process.stderr.write(`bench failed: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
