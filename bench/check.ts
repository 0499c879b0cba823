// bench:check — how fast `check` audits a large input, and how much memory it needs.
//
// Generates 2,000 services (Deployment, Service, Ingress, PodDisruptionBudget: 8,000 objects) from
// the examples as this commit synthesizes them, alternating Alibaba ALB and Tencent CLB, with one
// service in ten broken on purpose (no preStop wait, or a short grace period), writes them as one
// multi-document YAML file, and audits it in fresh processes: read + parse + audit + JSON report.
// Each run must find exactly the planted errors, so the benchmark measures real work. The result
// goes into docs/benchmarks.md between the bench:check markers, with the commit and command.
//
//   npm run bench:check [-- --services 2000 --runs 5 --no-write]
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Testing } from 'cdk8s';
import { Command } from 'commander';
import { stringify } from 'yaml';
import { AlibabaAlbTeaChart } from '../examples/alibaba-alb-tea';
import { TencentClbMeetingChart } from '../examples/tencent-clb-meeting';
import { audit } from '../src/check/audit';
import { toJson } from '../src/check/report';
import { readInputs } from '../src/manifests/inputs';
import { loadManifests } from '../src/manifests/topology';

const ROOT = path.join(__dirname, '..');
const START = '<!-- bench:check:start -->';
const END = '<!-- bench:check:end -->';

type KubeObject = { [key: string]: any };

/** Renames every name and the pod label of one synthesized service so copies do not collide. */
function copyService(template: KubeObject[], index: number): KubeObject[] {
  const suffix = `-${String(index).padStart(4, '0')}`;
  const objects: KubeObject[] = JSON.parse(JSON.stringify(template));
  const names = new Map<string, string>();
  for (const o of objects) {
    names.set(o.metadata.name, `${o.metadata.name}${suffix}`);
    o.metadata.name += suffix;
  }
  const relabel = (labels: KubeObject | undefined) => {
    if (labels === undefined) return;
    for (const key of Object.keys(labels)) labels[key] = `${labels[key]}${suffix}`;
  };
  for (const o of objects) {
    relabel(o.spec?.selector?.matchLabels);
    relabel(o.spec?.template?.metadata?.labels);
    if (o.kind === 'Service') relabel(o.spec.selector);
    if (o.kind === 'Ingress') {
      for (const rule of o.spec.rules ?? []) {
        for (const p of rule.http?.paths ?? []) p.backend.service.name = names.get(p.backend.service.name);
      }
    }
  }
  return objects;
}

interface Generated {
  readonly file: string;
  readonly objects: number;
  readonly services: number;
  readonly plantedErrors: number;
  readonly bytes: number;
}

function generate(services: number, dir: string): Generated {
  const templates = [
    Testing.synth(new AlibabaAlbTeaChart(Testing.app(), 'tea')) as KubeObject[],
    Testing.synth(new TencentClbMeetingChart(Testing.app(), 'meeting')) as KubeObject[],
  ];
  const docs: string[] = [];
  let objects = 0;
  let plantedErrors = 0;
  for (let i = 0; i < services; i++) {
    const service = copyService(templates[i % 2], i);
    const deployment = service.find((o) => o.kind === 'Deployment')!;
    if (i % 20 === 3) {
      delete deployment.spec.template.spec.containers[0].lifecycle; // prestop-wait-missing
      plantedErrors += 1;
    } else if (i % 20 === 13) {
      deployment.spec.template.spec.terminationGracePeriodSeconds = 20; // grace-period-too-short
      plantedErrors += 1;
    }
    objects += service.length;
    docs.push(...service.map((o) => stringify(o)));
  }
  const file = path.join(dir, 'services.k8s.yaml');
  const text = docs.join('---\n');
  fs.writeFileSync(file, text);
  return { file, objects, services, plantedErrors, bytes: Buffer.byteLength(text) };
}

/** Child mode: one audit in this process; prints time and memory as JSON. */
function child(file: string): void {
  const rssBefore = process.memoryUsage().rss;
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  // What runCheck does, phase by phase.
  const inputs = readInputs([file], () => '');
  const read = performance.now();
  const objects = loadManifests(inputs);
  const parsed = performance.now();
  const result = audit(objects, {});
  const audited = performance.now();
  const json = JSON.stringify(toJson(result, 'error'));
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const phases = { readMs: read - start, parseMs: parsed - read, auditMs: audited - parsed, reportMs: performance.now() - audited };
  const usage = process.resourceUsage();
  process.stdout.write(JSON.stringify({
    ms,
    cpuMs,
    ...phases,
    rssBeforeBytes: rssBefore,
    maxRssBytes: usage.maxRSS * 1024,
    objects: result.objects,
    deployments: result.deployments,
    errors: result.findings.filter((f) => f.severity === 'error').length,
    reportBytes: json.length,
  }) + '\n');
}

interface RunResult {
  readonly ms: number;
  readonly cpuMs: number;
  readonly readMs: number;
  readonly parseMs: number;
  readonly auditMs: number;
  readonly reportMs: number;
  readonly rssBeforeBytes: number;
  readonly maxRssBytes: number;
  readonly objects: number;
  readonly deployments: number;
  readonly errors: number;
}

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', cwd: ROOT }).trim();
  } catch (e) {
    return `(${cmd} failed: ${(e as Error).message.split('\n')[0]})`;
  }
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function section(g: Generated, runs: RunResult[], cliMs: number, command: string): string {
  const times = runs.map((r) => r.ms);
  const dirty = sh('git', ['status', '--porcelain']) !== '' ? ' (with uncommitted changes)' : '';
  return [
    START,
    '## check: auditing 2,000 services',
    '',
    `\`check\` read, parsed and audited ${g.services.toLocaleString('en-US')} services (${g.objects.toLocaleString('en-US')} objects, `
      + `${(g.bytes / 1024 / 1024).toFixed(1)} MiB of YAML in one file) in a median of **${(median(times) / 1000).toFixed(2)} s** `
      + `(${runs.length} runs, each in a fresh process: ${times.map((t) => (t / 1000).toFixed(2)).join(', ')} s; CPU time, less sensitive to the `
      + `other work on the machine: median ${(median(runs.map((r) => r.cpuMs)) / 1000).toFixed(2)} s), with a peak resident `
      + `memory of **${mib(Math.max(...runs.map((r) => r.maxRssBytes)))}** (the process held ${mib(median(runs.map((r) => r.rssBeforeBytes)))} `
      + 'before the check started: Node, ts-node and the modules).',
    `Median phases: reading the file ${(median(runs.map((r) => r.readMs)) / 1000).toFixed(2)} s, parsing the YAML (js-yaml per document, `
      + `located by its separator lines; the \`yaml\` package only where it must step in) ${(median(runs.map((r) => r.parseMs)) / 1000).toFixed(2)} s, the audit (topology and every rule) `
      + `${(median(runs.map((r) => r.auditMs)) / 1000).toFixed(2)} s, the JSON report ${(median(runs.map((r) => r.reportMs)) / 1000).toFixed(2)} s.`,
    `Every run found exactly the ${g.plantedErrors} planted errors. The whole command, \`cdk8s-graceful-web-service check <file> --format json\` `
      + `through ts-node (compiling the CLI on start), took ${(cliMs / 1000).toFixed(2)} s.`,
    '',
    '| | |',
    '|---|---|',
    '| input | the two examples as synthesized by this commit (Alibaba ALB, Tencent CLB), copied with unique names and labels; one service in ten broken (no preStop wait, or grace 20 s) |',
    '| measured | what \`runCheck\` does (read the file, parse YAML, resolve Ingress → Service → Deployment, run every rule) + the JSON report, timed with `performance.now()`; peak memory is the process\'s `maxRSS` |',
    `| command | \`${command}\` (\`npm run bench:check\`) |`,
    `| commit | ${sh('git', ['rev-parse', '--short', 'HEAD'])}${dirty} |`,
    `| date | ${new Date().toISOString().slice(0, 10)} |`,
    `| machine | ${os.cpus().length} CPUs (shared with other work; load average ${os.loadavg().map((l) => l.toFixed(1)).join(', ')} at the end), ${mib(os.totalmem())} RAM, node ${process.version} |`,
    END,
  ].join('\n');
}

function writeSection(text: string): void {
  const file = path.join(ROOT, 'docs', 'benchmarks.md');
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const start = current.indexOf(START);
  const end = current.indexOf(END);
  const next = start !== -1 && end > start
    ? current.slice(0, start) + text + current.slice(end + END.length)
    : `${current.replace(/\n*$/, '\n\n')}${text}\n`;
  fs.writeFileSync(file, next);
}

function main(): void {
  const opts = new Command('bench:check')
    .option('--services <n>', 'services to generate (4 objects each)', Number, 2000)
    .option('--runs <n>', 'audits, each in a fresh process', Number, 5)
    .option('--no-write', 'print the section only, do not touch docs/benchmarks.md')
    .option('--child <file>', 'internal: audit one file and print the measurements')
    .parse(process.argv)
    .opts<{ services: number; runs: number; write: boolean; child?: string }>();
  if (opts.child !== undefined) {
    child(opts.child);
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-bench-check-'));
  try {
    process.stderr.write(`generating ${opts.services} services from the examples...\n`);
    const generated = generate(opts.services, dir);
    const env = { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', TS_NODE_PROJECT: path.join(ROOT, 'tsconfig.dev.json') };
    const runs: RunResult[] = [];
    for (let i = 0; i < opts.runs; i++) {
      const run = spawnSync(process.execPath, ['-r', 'ts-node/register', __filename, '--child', generated.file], { cwd: ROOT, env, encoding: 'utf8' });
      if (run.status !== 0) throw new Error(`audit run failed: ${run.stderr}`);
      const result: RunResult = JSON.parse(run.stdout);
      if (result.objects !== generated.objects || result.deployments !== generated.services || result.errors !== generated.plantedErrors) {
        throw new Error(`run ${i + 1} found ${result.deployments} Deployments in ${result.objects} objects and ${result.errors} errors; `
          + `expected ${generated.services}, ${generated.objects} and ${generated.plantedErrors}`);
      }
      process.stderr.write(`run ${i + 1}/${opts.runs}: ${(result.ms / 1000).toFixed(2)} s (CPU ${(result.cpuMs / 1000).toFixed(2)} s), peak RSS ${mib(result.maxRssBytes)}\n`);
      runs.push(result);
    }
    const started = performance.now();
    const cli = spawnSync(process.execPath, ['-r', 'ts-node/register', path.join(ROOT, 'src', 'cli', 'gws.ts'), 'check', generated.file, '--format', 'json'],
      { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
    const cliMs = performance.now() - started;
    if (cli.status !== 1) throw new Error(`gws check exited ${cli.status}, expected 1 (planted errors): ${cli.stderr}`);
    const text = section(generated, runs, cliMs, `npx ts-node --project tsconfig.dev.json bench/check.ts${process.argv.slice(2).length > 0 ? ` ${process.argv.slice(2).join(' ')}` : ''}`);
    process.stdout.write(text + '\n');
    if (opts.write) writeSection(text);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
