/**
 * Servers benchmark: what real servers nobody here wrote do when they are stopped.
 *
 * Runs `drain-test` (through the CLI's own entry point, with the exact arguments recorded in the
 * report) on Debian's nginx, Apache httpd, Python's http.server, gunicorn and Node's
 * http.createServer, each with the signals that matter, several times per row. Each measured
 * verdict is checked against the server's documented behaviour; a mismatch fails the benchmark.
 *
 * Then, per server and signal, the rehearsal rows: two manifests synthesized here from a
 * GracefulWebService at the current commit (no safety margin), one from the measured answer and one
 * from a wrong answer that drops requests, rehearsed at time scale 1 against the real binary with
 * `rehearse --app-command`, both at once. The probe requests each server's 5 s `/slow` route.
 * About 10 minutes on 2 cores (drain tests about 2, rehearsals about 1 per row).
 *
 * Writes the `bench:servers` section of docs/benchmarks.md and bench/results/servers.json.
 *
 *   npx ts-node --project tsconfig.dev.json bench/servers.ts [--runs 3] [--only nginx,node-term] [--no-rehearsal] [--dry]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Chart, Duration } from 'cdk8s';
import { PercentOrAbsolute } from 'cdk8s-plus-27';
import { Command } from 'commander';
import { GracefulWebService, LoadBalancer, StopSignal } from '../src';
import { writeSection } from './sections';
import { buildProgram, main } from '../src/cli/gws';
import type { DrainTestResult, DrainVerdict } from '../src/drain-test/drain-test';

const ROOT = path.resolve(__dirname, '..');
const DOCS = path.join(ROOT, 'docs', 'benchmarks.md');
const RESULTS = path.join(ROOT, 'bench', 'results', 'servers.json');
const START = '<!-- bench:servers:start -->';
const END = '<!-- bench:servers:end -->';
/** The CLI as a user runs it; the benchmark runs the same arguments in-process. */
const CLI = 'npx cdk8s-graceful-web-service';
/**
 * Rehearsal settings for every server row. Time scale 1: a real server's own timing (its slow route,
 * its drain) cannot be scaled, so model seconds are real seconds. The probe requests each server's
 * 5 s `/slow` route, 10 per second (about 17 in flight per pod).
 */
const REHEARSAL_ARGS = ['--lag', '9-10', '--time-scale', '1', '--path', '/slow', '--rate', '10', '--seed', '1'];
/** Declared deregistration delay D of the rehearsal manifests (the Alibaba ALB default). */
const DECLARED_D = 10;
/**
 * The wrong drainTimeout of a server that drains: shorter than its 5 s `/slow` requests. The
 * kubelet grants at least 2 s after a preStop hook, so anything up to 2 s kills at signal + 2 s.
 */
const WRONG_DRAIN_TIMEOUT = 1;

interface Source {
  readonly title: string;
  readonly url: string;
  /** Our paraphrase of what the source says about this signal. */
  readonly says: string;
}

interface Case {
  readonly id: string;
  readonly server: string;
  /** Command printing the version (first line is kept). */
  readonly version: string[];
  readonly signal: string;
  /** drain-test arguments after `drain-test`. */
  readonly args: string[];
  readonly documented: DrainVerdict;
  readonly source: Source;
  /** Arguments for rehearse --app-command (without the manifest). */
  readonly rehearse: string[];
  /**
   * Rehearse this row too: the server's `/healthz` answers at once (readiness probe), its `/slow`
   * takes about 5 s (`slowRoute` says how it is made), and the probe requests `/slow`.
   */
  readonly rehearsal?: { readonly slowRoute: string };
}

const S = 'assets/servers';
const NGINX_CMD = '/usr/sbin/nginx -e stderr -p {dir} -c {dir}/nginx.conf';
const APACHE_CMD = '/usr/sbin/apache2 -DFOREGROUND -d {dir} -f {dir}/apache2.conf';
const PYTHON_CMD = '/usr/bin/python3 -m http.server --bind {host} --directory {dir} {port}';
const PYTHON_APP_CMD = '/usr/bin/python3 {dir}/python_server.py';
const GUNICORN_CMD = '/usr/bin/gunicorn --bind {host}:{port} --workers 32 --chdir {dir} wsgi_app:app';
const NGINX_SLOW = 'nginx limit_rate 100 bytes/s';
const APACHE_SLOW = 'mod_info page through mod_ratelimit 8 KiB/s';
const SLEEP_5S = 'sleep 5 s in the handler';

const PYTHON_DOC: Source = {
  title: 'Python: signal module, default handlers',
  url: 'https://docs.python.org/3/library/signal.html',
  says: 'Python installs handlers only for SIGINT (KeyboardInterrupt) and SIGPIPE (ignored); SIGTERM keeps the default action and kills the process. '
    + 'http.server installs none, and its ThreadingHTTPServer serves each request on a daemon thread, which does not hold up the exit '
    + '([socketserver](https://docs.python.org/3/library/socketserver.html), [http.server](https://docs.python.org/3/library/http.server.html))',
};
const NGINX_DOC: Source = { title: 'nginx: Controlling nginx', url: 'https://nginx.org/en/docs/control.html', says: '' };
const APACHE_DOC: Source = { title: 'Apache HTTP Server 2.4: Stopping and Restarting', url: 'https://httpd.apache.org/docs/2.4/stopping.html', says: '' };

function server(appCommand: string, templates: string[], signal: string, extra: string[] = []): { args: string[]; rehearse: string[] } {
  const common = ['--app-command', appCommand, ...templates.flatMap((t) => ['--app-template', `${S}/${t}`]), '--stop-signal', signal];
  return { args: [...common, ...extra], rehearse: common };
}

export const CASES: Case[] = [
  {
    id: 'nginx-quit',
    server: 'nginx',
    version: ['/usr/sbin/nginx', '-v'],
    signal: 'SIGQUIT',
    documented: 'drains',
    ...server(NGINX_CMD, ['nginx.conf.tmpl'], 'SIGQUIT'),
    rehearsal: { slowRoute: NGINX_SLOW },
    source: { ...NGINX_DOC, says: 'QUIT is the graceful shutdown: workers stop listening, close idle connections and exit once their clients are served' },
  },
  {
    id: 'nginx-term',
    server: 'nginx',
    version: ['/usr/sbin/nginx', '-v'],
    signal: 'SIGTERM',
    documented: 'cuts',
    ...server(NGINX_CMD, ['nginx.conf.tmpl'], 'SIGTERM'),
    rehearsal: { slowRoute: NGINX_SLOW },
    source: { ...NGINX_DOC, says: 'TERM and INT are the fast shutdown' },
  },
  {
    id: 'apache-winch',
    server: 'Apache httpd',
    version: ['/usr/sbin/apache2', '-v'],
    signal: 'SIGWINCH',
    documented: 'drains',
    ...server(APACHE_CMD, ['apache2.conf.tmpl'], 'SIGWINCH'),
    rehearsal: { slowRoute: APACHE_SLOW },
    source: {
      ...APACHE_DOC,
      says: 'WINCH is the graceful stop: the parent stops listening and tells the children to exit after their current request; '
        + 'it exits when they are done (or at GracefulShutdownTimeout, unlimited by default)',
    },
  },
  {
    id: 'apache-term',
    server: 'Apache httpd',
    version: ['/usr/sbin/apache2', '-v'],
    signal: 'SIGTERM',
    documented: 'cuts',
    ...server(APACHE_CMD, ['apache2.conf.tmpl'], 'SIGTERM'),
    rehearsal: { slowRoute: APACHE_SLOW },
    source: { ...APACHE_DOC, says: 'TERM stops at once: the parent kills its children immediately, aborting requests in progress' },
  },
  {
    id: 'python-term',
    server: 'Python http.server',
    version: ['/usr/bin/python3', '--version'],
    signal: 'SIGTERM',
    documented: 'cuts',
    ...server(PYTHON_CMD, [], 'SIGTERM'),
    source: PYTHON_DOC,
  },
  {
    id: 'python-app-term',
    server: 'Python http.server classes + a slow route',
    version: ['/usr/bin/python3', '--version'],
    signal: 'SIGTERM',
    documented: 'cuts',
    ...server(PYTHON_APP_CMD, ['python_server.py.tmpl'], 'SIGTERM', ['--slow-path', '/slow']),
    rehearsal: { slowRoute: SLEEP_5S },
    source: PYTHON_DOC,
  },
  {
    id: 'gunicorn-term',
    server: 'gunicorn (sync workers)',
    version: ['/usr/bin/gunicorn', '--version'],
    signal: 'SIGTERM',
    documented: 'drains',
    ...server(GUNICORN_CMD, ['wsgi_app.py.tmpl'], 'SIGTERM', ['--slow-path', '/slow']),
    rehearsal: { slowRoute: SLEEP_5S },
    source: {
      title: 'Gunicorn: Signal Handling',
      url: 'https://docs.gunicorn.org/en/stable/signals.html',
      says: 'TERM on the master is the graceful shutdown: workers finish their current requests, up to graceful_timeout (30 s by default); QUIT and INT are the quick shutdown',
    },
  },
  {
    id: 'node-term',
    server: 'Node http.createServer, defaults',
    version: ['node', '--version'],
    signal: 'SIGTERM',
    documented: 'cuts',
    ...server('node {dir}/node-default.js', ['node-default.js.tmpl'], 'SIGTERM', ['--slow-path', '/slow']),
    rehearsal: { slowRoute: 'setTimeout 5 s' },
    source: {
      title: 'Node.js: process signal events',
      url: 'https://nodejs.org/api/process.html#signal-events',
      says: 'without a listener, SIGTERM and SIGINT exit the process at once (after resetting the terminal); nothing closes the server',
    },
  },
  {
    id: 'node-close-term',
    server: 'Node http.createServer + server.close() on SIGTERM',
    version: ['node', '--version'],
    signal: 'SIGTERM',
    documented: 'drains',
    ...server('node {dir}/node-close.js', ['node-close.js.tmpl'], 'SIGTERM', ['--slow-path', '/slow']),
    rehearsal: { slowRoute: 'setTimeout 5 s' },
    source: {
      title: 'Node.js: http server.close()',
      url: 'https://nodejs.org/api/http.html#serverclosecallback',
      says: 'server.close() stops accepting connections and, since Node 19, closes idle ones; requests in progress finish, and the process exits once nothing keeps it alive',
    },
  },
];

interface RunOutcome {
  readonly verdict: DrainVerdict;
  readonly result: DrainTestResult;
}

interface RowResult {
  readonly case: Case;
  readonly version: string;
  readonly command: string;
  readonly runs: RunOutcome[];
  readonly matches: boolean;
}

function versionOf(argv: string[]): string {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (r.error !== undefined) {
    throw new Error(`${argv[0]} is missing (${r.error.message}); install it with: apt-get install -y nginx apache2 gunicorn python3`);
  }
  const line = `${r.stdout}${r.stderr}`.trim().split('\n')[0];
  return /v?\d+\.\d+(\.\d+)?/.exec(line)?.[0] ?? line;
}

/** Shell-quotes an argument for the recorded command line. */
function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, '\'\\\'\'')}'`;
}

async function drainTest(args: string[]): Promise<DrainTestResult> {
  let stdout = '';
  let stderr = '';
  const before = process.exitCode;
  await main(['node', 'gws', 'drain-test', ...args, '--json'], { out: (t) => { stdout += t; }, err: (t) => { stderr += t; } });
  const code = process.exitCode;
  process.exitCode = before;
  if (code === 2 || stdout.trim() === '') throw new Error(`drain-test ${args.join(' ')} could not run:\n${stderr}`);
  return JSON.parse(stdout) as DrainTestResult;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function fmt(n: number): string {
  return n.toFixed(2);
}

function idleText(r: DrainTestResult): string {
  const kept = r.idle.filter((i) => i.outcome !== 'not-kept-alive');
  if (r.idle.length > 0 && kept.length === 0) return 'not kept alive (closed after each response)';
  const closed = kept.filter((i) => i.outcome === 'closed');
  const reset = kept.filter((i) => i.outcome === 'reset');
  const parts: string[] = [];
  if (closed.length > 0) parts.push(`${closed.length} closed (FIN) at ${fmt(Math.max(...closed.map((i) => i.closedAtSeconds ?? 0)))} s`);
  if (reset.length > 0) parts.push(`${reset.length} reset (RST)`);
  const atExit = kept.length - closed.length - reset.length;
  if (atExit > 0) parts.push(`${atExit} open until the exit`);
  return parts.join(', ');
}

function newConnText(r: DrainTestResult): string {
  const n = r.newConnections;
  const parts: string[] = [];
  if (n.answered > 0) parts.push(`${n.answered} answered`);
  if (n.refused > 0) parts.push(`${n.refused} refused`);
  if (n.dropped > 0) parts.push(`${n.dropped} accepted, never answered`);
  return parts.join(', ') || '-';
}

// ---- rehearsal rows -------------------------------------------------------------------------

interface RehearsalRow {
  readonly case: Case;
  readonly manifest: 'measured answer' | 'wrong answer';
  readonly drainsOnStopSignal: boolean;
  readonly drainTimeoutSeconds: number;
  /** What the wrong answer gets wrong (empty for the measured answer). */
  readonly wrong: string;
  readonly command: string;
  /** Wall time of the rehearsal, seconds. */
  readonly wallSeconds?: number;
  readonly requests?: number;
  readonly failed?: number;
  /** Failed requests per status / error kind. */
  readonly failures?: string;
  /** Mean pod termination (deletion to exit), model seconds. */
  readonly terminationMeanSeconds?: number;
  /** Old pods that did not exit by themselves: SIGKILLed at the end of the grace period. */
  readonly killed?: number;
  readonly error?: string;
}

interface RehearsalOutcome {
  readonly requests: number;
  readonly failed: number;
  readonly failures: string;
  readonly terminationMeanSeconds?: number;
  readonly killed: number;
}

/**
 * A manifest synthesized here, at this commit, from a GracefulWebService with the given answer.
 * No safety margin: it would pad the preStop wait by M and hide a small error, and the rows are
 * about what the answer itself protects. To keep each rehearsal near a minute (time scale 1), all
 * new pods surge at once (maxSurge 100 %: a rollout stops the three old pods together) and the
 * health check runs every 2 s (2 successes), so pods are Ready in about 4 s and minReadySeconds is
 * 14 s; neither changes what happens to an old pod once it is deleted.
 */
function synthesizeManifest(dir: string, name: string, signal: string, drains: boolean, drainTimeoutSeconds: number): string {
  const app = new App({ outdir: dir });
  const chart = new Chart(app, name);
  new GracefulWebService(chart, 'web', {
    image: 'example/app:1', // the rehearsal runs the real binary instead
    port: 8080,
    replicas: 3,
    maxSurge: PercentOrAbsolute.percent(100),
    host: 'web.example.com',
    loadBalancer: LoadBalancer.alibabaAlb(),
    healthCheckPath: '/healthz',
    healthCheck: { interval: Duration.seconds(2), healthyThreshold: 2 },
    shutdown: {
      // Declared, not the provider default: the rows judge each answer against lags drawn up to
      // this D, and a longer default wait would hide the wrong answers (it did when the Alibaba
      // default rose to 15 s: every wrong answer passed).
      deregistrationDelay: Duration.seconds(DECLARED_D),
      stopSignal: StopSignal.of(signal),
      drainsOnStopSignal: drains,
      drainTimeout: Duration.seconds(drainTimeoutSeconds),
      safetyMargin: Duration.seconds(0),
    },
  });
  app.synth();
  return path.join(dir, `${name}.k8s.yaml`);
}

async function rehearse(manifest: string, args: string[]): Promise<RehearsalOutcome> {
  let stdout = '';
  let stderr = '';
  // Two rehearsals run at once: the outcome is read from the JSON, not from process.exitCode.
  const before = process.exitCode;
  await main(['node', 'gws', 'rehearse', manifest, ...args, '--json'], { out: (t) => { stdout += t; }, err: (t) => { stderr += t; } });
  process.exitCode = before;
  if (!stdout.trim().startsWith('{')) throw new Error(`rehearse could not run: ${stderr.trim().split('\n').slice(-3).join(' ')}`);
  const json = JSON.parse(stdout) as {
    summary: { total: number; failed: number; byStatus?: Record<string, number>; byError?: Record<string, number> };
    pods?: Array<{ terminationSeconds?: number; cleanedUp?: boolean; sigkill?: number }>;
  };
  // An error status is also counted as an error kind (5xx: http_5xx, 4xx: other): list it once, by status.
  const statuses = Object.entries(json.summary.byStatus ?? {}).filter(([status, n]) => n > 0 && !/^[23]/.test(status) && status !== 'none');
  const countOf = (first: string) => statuses.filter(([status]) => status.startsWith(first)).reduce((sum, [, n]) => sum + n, 0);
  const explained: Record<string, number> = { http_5xx: countOf('5'), other: countOf('4') };
  const failures = [
    ...statuses.map(([status, n]) => `${n} x HTTP ${status}`),
    ...Object.entries(json.summary.byError ?? {})
      .map(([kind, n]) => [kind, n - (explained[kind] ?? 0)] as const)
      .filter(([, n]) => n > 0).map(([kind, n]) => `${n} x ${kind}`),
  ].join(', ');
  const terminations = (json.pods ?? []).filter((p) => p.terminationSeconds !== undefined && !p.cleanedUp).map((p) => p.terminationSeconds!);
  return {
    requests: json.summary.total,
    failed: json.summary.failed,
    failures,
    terminationMeanSeconds: terminations.length > 0 ? terminations.reduce((a, b) => a + b, 0) / terminations.length : undefined,
    killed: (json.pods ?? []).filter((p) => p.sigkill !== undefined && !p.cleanedUp).length,
  };
}

function rehearseSupported(): boolean {
  const program = buildProgram({ out: () => undefined, err: () => undefined });
  const cmd = program.commands.find((c) => c.name() === 'rehearse');
  return (cmd?.helpInformation() ?? '').includes('--app-command');
}

// ---- report ---------------------------------------------------------------------------------

function gitCommit(): string {
  const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
  return `${sha}${dirty ? ' (with uncommitted changes)' : ''}`;
}

interface RunInfo {
  readonly commit: string;
  readonly date: string;
  readonly runs: number;
  readonly minutes: number;
  readonly command: string;
}

function report(rows: RowResult[], rehearsals: RehearsalRow[] | string, info: RunInfo): string {
  const lines: string[] = [];
  lines.push(START);
  lines.push('## Real servers: what they do when they are stopped');
  lines.push('');
  lines.push('`drain-test` on servers nobody here wrote (Debian 12 packages, and Node\'s own `http` module): each run starts the server, '
    + 'puts requests in flight (two 64 MiB downloads read slowly over 4 s, or two requests to a 5 s `/slow` path) on keep-alive '
    + 'connections that stay open after the response, as a load balancer\'s do, keeps two idle '
    + 'keep-alive connections open, sends the signal 1 s later and watches. **drains** = every in-flight request completed and the '
    + 'process exited by itself; **cuts** = in-flight requests were cut. Times are seconds after the signal; each row ran '
    + `${info.runs} times.`);
  lines.push('');
  lines.push('| server | signal | documented | measured (runs) | matches | in-flight completed | exit after signal, median (min-max) | idle keep-alive | new connections during the drain | suggested drainTimeout |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) {
    const exits = row.runs.map((r) => r.result.exitSeconds);
    const verdicts = [...new Set(row.runs.map((r) => r.verdict))];
    const completed = row.runs.reduce((a, r) => a + r.result.inFlight.filter((i) => i.outcome === 'completed').length, 0);
    const total = row.runs.reduce((a, r) => a + r.result.inFlight.length, 0);
    const last = row.runs[row.runs.length - 1].result;
    const suggested = Math.max(...row.runs.map((r) => r.result.suggestedDrainTimeoutSeconds));
    lines.push(`| ${row.case.server} (${row.version}) | ${row.case.signal} | ${row.case.documented} ([source](${row.case.source.url})) `
      + `| ${verdicts.join(' / ')} (${row.runs.length}) | ${row.matches ? 'yes' : '**NO**'} | ${completed} of ${total} `
      + `| ${fmt(median(exits))} (${fmt(Math.min(...exits))}-${fmt(Math.max(...exits))}) | ${idleText(last)} | ${newConnText(last)} `
      + `| ${suggested} s |`);
  }
  lines.push('');
  lines.push('What the documentation says (paraphrased), against which each verdict above is checked:');
  lines.push('');
  for (const row of rows) {
    lines.push(`- **${row.case.server}, ${row.case.signal}**: ${row.case.source.says} ([${row.case.source.title}](${row.case.source.url})).`);
  }
  lines.push('');
  lines.push('Reading the table: the suggested `drainTimeout` covers the longest request of the test (4 s downloads, 5 s `/slow`) plus '
    + 'the exit after the last request, plus 1 s; size yours with `--longest-request`. New connections **accepted, never answered** '
    + '(gunicorn: the master keeps its listening socket while the workers drain) would fail if a load balancer still sent them, '
    + 'which the preStop wait (`deregistrationDelay`) prevents. The idle keep-alive and new-connection columns show the last run. '
    + 'The official nginx images declare `STOPSIGNAL SIGQUIT` ([docker-nginx](https://github.com/nginxinc/docker-nginx)) and the '
    + 'official httpd images `STOPSIGNAL SIGWINCH` ([docker-library/httpd](https://github.com/docker-library/httpd)), so on Kubernetes '
    + 'those servers get the signal they drain on; an image that runs them without that line gets SIGTERM and cuts. '
    + 'Python\'s http.server and a Node server without a handler do not drain on any stop signal: declare `drainsOnStopSignal: false`.');
  lines.push('');
  lines.push('### Rehearsal against the real binary');
  lines.push('');
  if (typeof rehearsals === 'string') {
    lines.push(rehearsals);
  } else {
    lines.push('Per server and signal, two manifests synthesized by the benchmark from a `GracefulWebService` at this commit, '
      + 'each rehearsed with `rehearse --app-command` in the same run (every pod is the real server): one from the measured answer '
      + '(the drain test\'s verdict and suggested `drainTimeout`), one from a wrong answer that drops requests. For a server that '
      + 'cuts, the wrong answer is `drainsOnStopSignal: true`: the stop signal comes right after the preStop wait D, and what is '
      + 'still in flight is cut. For a server that drains, `drainsOnStopSignal: false` costs time, not requests (every old pod '
      + 'only waits S longer in preStop), so the wrong answer that drops is a `drainTimeout` shorter than the requests need '
      + `(${WRONG_DRAIN_TIMEOUT} s): SIGKILL comes at the end of the grace period D + S, and the kubelet's floor of 2 s after a `
      + 'preStop hook is not enough for a 5 s request.');
    lines.push('');
    lines.push('| server | signal | slow route (about 5 s) | manifest | drainsOnStopSignal | drainTimeout | what is wrong | requests | failed | failure % | failures | pod termination, mean | pods SIGKILLed | wall time |');
    lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of rehearsals) {
      const percent = r.requests !== undefined && r.failed !== undefined && r.requests > 0 ? (100 * r.failed / r.requests).toFixed(2) : '-';
      lines.push(`| ${r.case.server} | ${r.case.signal} | ${r.case.rehearsal?.slowRoute ?? '-'} | ${r.manifest} | ${r.drainsOnStopSignal} | ${r.drainTimeoutSeconds} s `
        + `| ${r.wrong || '-'} | ${r.requests ?? '-'} | ${r.failed ?? (r.error !== undefined ? `not run: ${r.error}` : '-')} | ${percent} | ${r.failures || '-'} `
        + `| ${r.terminationMeanSeconds !== undefined ? `${r.terminationMeanSeconds.toFixed(1)} s` : '-'} | ${r.killed ?? '-'} `
        + `| ${r.wallSeconds !== undefined ? `${r.wallSeconds.toFixed(0)} s` : '-'} |`);
    }
    lines.push('');
    lines.push(`Settings of every rehearsal: the Alibaba Cloud ALB profile (D = ${DECLARED_D} s declared), 3 replicas, all replaced at once `
      + '(`maxSurge: 100%`), a readiness probe on `/healthz` (instant), `safetyMargin: 0`, and '
      + 'a health check every 2 s (2 successes; new pods are Ready in about 4 s), '
      + `\`${REHEARSAL_ARGS.join(' ')}\`: the probe requests each server's \`/slow\` route, made with the server's own configuration `
      + `(column "slow route"); each pod's deregistration lag is drawn in [9, ${DECLARED_D}] s, the worst case within the declared D. `
      + 'The margin is 0 on purpose: the default margin M pads the preStop wait and would hide a small error, and these rows isolate '
      + 'what the answer itself protects. Time scale 1: a real server\'s own timing cannot be scaled, so these are real seconds. '
      + 'The two manifests of a row are rehearsed at the same time (separate load balancers, pods and probes). '
      + 'The Python row is a small app on the standard library\'s `SimpleHTTPRequestHandler` and `ThreadingHTTPServer` with a sleeping '
      + '`/slow` and no signal handling ([assets/servers/python_server.py.tmpl](../assets/servers/python_server.py.tmpl)), because '
      + '`python3 -m http.server` has no slow route; its drain-test row above runs the very same code.');
    lines.push('');
    lines.push('Commands (manifest path: the synthesized file):');
    lines.push('');
    for (const r of rehearsals) lines.push(`- \`${r.command}\``);
  }
  lines.push('');
  lines.push('### Commands and setup');
  lines.push('');
  lines.push('| | |');
  lines.push('|---|---|');
  lines.push(`| benchmark | \`${info.command}\` (\`npm run bench:servers\`) |`);
  lines.push(`| commit | ${info.commit} |`);
  lines.push(`| date | ${info.date} |`);
  lines.push(`| machine | ${os.cpus().length} CPUs, ${Math.round(os.totalmem() / 2 ** 30)} GiB, shared with other work; node ${process.version} |`);
  lines.push(`| wall time | ${info.minutes.toFixed(1)} min |`);
  lines.push('');
  lines.push('Each row\'s exact command (server templates in [assets/servers](../assets/servers), shipped in the package):');
  lines.push('');
  for (const row of rows) lines.push(`- ${row.case.server}, ${row.case.signal}: \`${row.command}\``);
  lines.push('');
  lines.push('Raw results: [bench/results/servers.json](../bench/results/servers.json).');
  lines.push(END);
  return lines.join('\n');
}

/** Replace (or append) this benchmark's section of docs/benchmarks.md. */
async function run(): Promise<void> {
  const program = new Command('bench-servers')
    .option('--runs <n>', 'drain tests per row', (v) => Number(v), 3)
    .option('--only <text>', 'only rows whose id contains this (comma-separated: any of them), e.g. nginx,node-term')
    .option('--no-rehearsal', 'skip the rehearsal rows')
    .option('--dry', 'print the section instead of writing docs/benchmarks.md')
    .parse(process.argv);
  const opts = program.opts<{ runs: number; only?: string; rehearsal: boolean; dry?: boolean }>();
  const started = Date.now();
  const only = opts.only?.split(',').map((t) => t.trim()).filter((t) => t !== '');
  const cases = CASES.filter((c) => only === undefined || only.some((t) => c.id.includes(t)));
  if (cases.length === 0) throw new Error(`--only ${opts.only}: no row matches (rows: ${CASES.map((c) => c.id).join(', ')})`);
  const rows: RowResult[] = [];
  for (const [k, c] of cases.entries()) {
    const version = versionOf(c.version);
    const runs: RunOutcome[] = [];
    for (let i = 0; i < opts.runs; i++) {
      const t0 = Date.now();
      const result = await drainTest(c.args);
      runs.push({ verdict: result.verdict, result });
      process.stderr.write(`drain test [${k + 1}/${cases.length}] ${c.id} run ${i + 1}/${opts.runs}: ${result.verdict}, exit ${result.exitSeconds} s, `
        + `${result.inFlight.filter((f) => f.outcome === 'completed').length}/${result.inFlight.length} in flight completed `
        + `(${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
    }
    const matches = runs.every((r) => r.verdict === c.documented);
    rows.push({ case: c, version, command: `${CLI} drain-test ${c.args.map(quote).join(' ')}`, runs, matches });
  }

  let rehearsals: RehearsalRow[] | string;
  if (!opts.rehearsal) {
    rehearsals = 'Not run (`--no-rehearsal`).';
  } else if (!rehearseSupported()) {
    rehearsals = 'Not run: `rehearse --app-command` (issue 7) is not available at this commit; the benchmark runs these rows once it is.';
  } else {
    rehearsals = [];
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-bench-servers-'));
    const todo = rows.filter((row) => row.case.rehearsal !== undefined);
    for (const [n, row] of todo.entries()) {
      const c = row.case;
      const measured = row.runs.every((r) => r.verdict === 'drains');
      const drainTimeout = Math.max(...row.runs.map((r) => r.result.suggestedDrainTimeoutSeconds));
      // A server that cuts: the wrong answer says it drains, so the signal comes right after the
      // preStop wait D. A server that drains: saying it cuts only costs time, so the wrong answer
      // that drops is a drainTimeout shorter than its requests.
      const answers = measured
        ? [{ label: 'measured answer', drains: true, timeout: drainTimeout, wrong: '' },
          { label: 'wrong answer', drains: true, timeout: WRONG_DRAIN_TIMEOUT, wrong: `drainTimeout ${WRONG_DRAIN_TIMEOUT} s < the 5 s requests` }]
        : [{ label: 'measured answer', drains: false, timeout: drainTimeout, wrong: '' },
          { label: 'wrong answer', drains: true, timeout: drainTimeout, wrong: 'drainsOnStopSignal: true for a server that cuts' }];
      // Both manifests at once, in the same run: each has its own HAProxy, pods and probe, and the
      // machine is mostly idle (every request waits on a 5 s route); it halves the wall time.
      process.stderr.write(`rehearsal [${n + 1}/${todo.length}] ${c.id}: rehearsing the measured and the wrong answer at once ...\n`);
      const outcomes = await Promise.all(answers.map(async (a): Promise<RehearsalRow> => {
        const manifest = synthesizeManifest(tmp, `${c.id}-${a.label.replace(/ /g, '-')}`, c.signal, a.drains, a.timeout);
        const args = [...c.rehearse, ...REHEARSAL_ARGS];
        const command = `${CLI} rehearse ${path.basename(manifest)} ${args.map(quote).join(' ')}`;
        const base = { case: c, manifest: a.label as RehearsalRow['manifest'], drainsOnStopSignal: a.drains, drainTimeoutSeconds: a.timeout, wrong: a.wrong, command };
        const t0 = Date.now();
        try {
          const r = await rehearse(manifest, args);
          return { ...base, ...r, wallSeconds: (Date.now() - t0) / 1000 };
        } catch (e) {
          return { ...base, error: (e as Error).message, wallSeconds: (Date.now() - t0) / 1000 };
        }
      }));
      for (const r of outcomes) {
        rehearsals.push(r);
        const what = `${r.manifest}: drainsOnStopSignal ${r.drainsOnStopSignal}, drainTimeout ${r.drainTimeoutSeconds} s`;
        process.stderr.write(`rehearsal [${n + 1}/${todo.length}] ${c.id} (${what}): `
          + `${r.error !== undefined ? `could not run: ${r.error}` : `${r.failed} of ${r.requests} failed${r.failures ? ` (${r.failures})` : ''}, ${r.killed} pod(s) SIGKILLed`}, `
          + `${r.wallSeconds!.toFixed(0)} s\n`);
      }
    }
  }

  const info = {
    commit: gitCommit(),
    date: new Date().toISOString().slice(0, 10),
    runs: opts.runs,
    minutes: (Date.now() - started) / 60000,
    command: 'npx ts-node --project tsconfig.dev.json bench/servers.ts',
  };
  const section = report(rows, rehearsals, info);
  if (opts.dry) {
    process.stdout.write(section + '\n');
  } else {
    writeSection(section, START, END, DOCS);
    fs.mkdirSync(path.dirname(RESULTS), { recursive: true });
    // Keep the raw results readable: the server's own output only as its last lines.
    const slim = rows.map((r) => ({
      ...r,
      case: r.case.id,
      runs: r.runs.map((one) => ({ ...one, result: { ...one.result, serverOutput: one.result.serverOutput.slice(-300) } })),
    }));
    fs.writeFileSync(RESULTS, JSON.stringify({ info, rows: slim, rehearsals: typeof rehearsals === 'string' ? rehearsals : rehearsals.map((r) => ({ ...r, case: r.case.id })) }, null, 1) + '\n');
    process.stderr.write(`wrote docs/benchmarks.md (bench:servers section) and bench/results/servers.json (${info.minutes.toFixed(1)} min)\n`);
  }
  const mismatches = rows.filter((r) => !r.matches);
  if (mismatches.length > 0) {
    process.stderr.write(`verdicts that contradict the documentation: ${mismatches.map((m) => m.case.id).join(', ')}\n`);
    process.exitCode = 1;
  }
}

if (require.main === module) {
  run().catch((e) => {
    process.stderr.write(`bench:servers: ${(e as Error).message}\n`);
    process.exitCode = 2;
  });
}
