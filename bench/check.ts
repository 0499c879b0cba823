// bench:check — how fast `check` audits a large input against only parsing it, and how it grows.
//
// Generates services (Deployment, Service, Ingress, PodDisruptionBudget: 4 objects each) from the
// examples as this commit synthesizes them, alternating Alibaba ALB and Tencent CLB, with one
// service in ten broken on purpose (no preStop wait, or a short grace period), written as one
// multi-document YAML file per size (default 2,000 and 20,000 services: 8,000 and 80,000 objects).
// Each size is measured in fresh Node processes (bench/check-child.js, plain JS running src/ as
// compiled into .bench-build/: no ts-node in either heap), alternating two children:
//   - parse: read the file and parse it with js-yaml (`loadAll`), nothing else: the floor;
//   - check: what `check <file> --format json` does (read, parse, audit, JSON report).
// Each check run must find exactly the planted errors, so the benchmark measures real work. The
// section reports both medians, their ratio (issue 16 asks for at most 1.5) and the growth from the
// smallest to the largest size per object (1.0 is linear). It goes into docs/benchmarks.md between
// the bench:check markers, with the commit and command.
//
//   npm run bench:check [-- --sizes 2000,20000 --runs 9 --no-write]
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Testing } from 'cdk8s';
import { Command } from 'commander';
import { dump } from 'js-yaml';
import { writeSection } from './sections';
import { AlibabaAlbTeaChart } from '../examples/alibaba-alb-tea';
import { TencentClbMeetingChart } from '../examples/tencent-clb-meeting';

const ROOT = path.join(__dirname, '..');
const START = '<!-- bench:check:start -->';
const END = '<!-- bench:check:end -->';
/** Where the children's compiled code goes (git-ignored; removed after the run). */
const BUILD = path.join(ROOT, '.bench-build');

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
  const file = path.join(dir, `services-${services}.k8s.yaml`);
  const fd = fs.openSync(file, 'w');
  let objects = 0;
  let plantedErrors = 0;
  let bytes = 0;
  try {
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
      // js-yaml's dump: block style as kubectl and helm print it, and fast enough for 80,000 objects.
      const text = service.map((o) => `${i === 0 && o === service[0] ? '' : '---\n'}${dump(o, { lineWidth: -1, noRefs: true })}`).join('');
      fs.writeSync(fd, text);
      bytes += Buffer.byteLength(text);
    }
  } finally {
    fs.closeSync(fd);
  }
  return { file, objects, services, plantedErrors, bytes };
}

/** What a child measured. */
interface RunResult {
  readonly ms: number;
  readonly cpuMs: number;
  readonly maxRssBytes: number;
  readonly rssBeforeBytes: number;
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
const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** One size's measurements. */
interface SizeResult {
  readonly generated: Generated;
  readonly parse: RunResult[];
  readonly check: RunResult[];
}

const ratioOf = (r: SizeResult) => median(r.check.map((x) => x.ms)) / median(r.parse.map((x) => x.ms));
/** The spread of the per-pair ratios (check run i over parse run i): how much the machine moved during the size. */
const pairedRange = (r: SizeResult) => {
  const ratios = r.check.map((c, i) => c.ms / r.parse[i].ms);
  return `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}×`;
};
const perObject = (r: SizeResult, mode: 'parse' | 'check') => median(r[mode].map((x) => x.ms)) / r.generated.objects;

function section(results: readonly SizeResult[], command: string): string {
  const dirty = sh('git', ['status', '--porcelain']) !== '' ? ' (with uncommitted changes)' : '';
  const first = results[0];
  const last = results[results.length - 1];
  const growth = (mode: 'parse' | 'check') => perObject(last, mode) / perObject(first, mode);
  const worst = Math.max(...results.map(ratioOf));
  return [
    START,
    '## check: against only parsing the YAML, at two sizes',
    '',
    `\`check\` read, parsed, audited and reported (JSON) ${results.map((r) => `${r.generated.objects.toLocaleString('en-US')} objects in ${sec(median(r.check.map((x) => x.ms)))}`).join(' and ')} `
      + `(medians of ${first.check.length} runs each, every run in a fresh process); parsing the same files with js-yaml alone took `
      + `${results.map((r) => sec(median(r.parse.map((x) => x.ms)))).join(' and ')}. The ratio is at most **${worst.toFixed(2)}×** `
      + '(issue 16 asks for 1.5× or less). '
      + `From ${first.generated.objects.toLocaleString('en-US')} to ${last.generated.objects.toLocaleString('en-US')} objects, the time per object of check grew `
      + `**${growth('check').toFixed(2)}×** (js-yaml alone: ${growth('parse').toFixed(2)}×; 1.00 is linear).`,
    'Every check run found exactly the planted errors (one service in ten).',
    '',
    '| objects | YAML | js-yaml parse only (median) | check (median) | ratio | ratio of each run to the parse before it (min-max) | check CPU (median) | peak RSS: parse only / check |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...results.map((r) => `| ${r.generated.objects.toLocaleString('en-US')} | ${(r.generated.bytes / 1024 / 1024).toFixed(1)} MiB `
      + `| ${sec(median(r.parse.map((x) => x.ms)))} | ${sec(median(r.check.map((x) => x.ms)))} | ${ratioOf(r).toFixed(2)}× | ${pairedRange(r)} `
      + `| ${sec(median(r.check.map((x) => x.cpuMs)))} | ${mib(Math.max(...r.parse.map((x) => x.maxRssBytes)))} / ${mib(Math.max(...r.check.map((x) => x.maxRssBytes)))} |`),
    '',
    '| | |',
    '|---|---|',
    '| input | the two examples as synthesized by this commit (Alibaba ALB, Tencent CLB), copied with unique names and labels, printed by js-yaml; one service in ten broken (no preStop wait, or grace 20 s) |',
    '| measured | in-process, from reading the file to the end, modules loaded before: parse only = `fs.readFileSync` + js-yaml `loadAll`; check = `runCheck` (read, parse, resolve Ingress → Service → Deployment, every rule) + the JSON report as `--format json` prints it, compiled from this commit\'s src/ as `npx projen compile` does (no ts-node in either process); each run in a fresh Node process (`bench/check-child.js`), the two kinds alternating; peak memory is the process\'s `maxRSS` (it includes Node and the modules) |',
    `| command | \`${command}\` (\`npm run bench:check\`) |`,
    `| commit | ${sh('git', ['rev-parse', '--short', 'HEAD'])}${dirty} |`,
    `| date | ${new Date().toISOString().slice(0, 10)} |`,
    `| machine | ${os.cpus().length} CPUs (load average ${os.loadavg().map((l) => l.toFixed(1)).join(', ')} at the end), ${mib(os.totalmem())} RAM, node ${process.version} |`,
    END,
  ].join('\n');
}

/**
 * Compiles src/ as `npx projen compile` does, into .bench-build/ (beside src/, so the CLI finds
 * package.json and node_modules as it does from lib/), and returns the directory.
 */
function compile(): string {
  fs.rmSync(BUILD, { recursive: true, force: true });
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.json'), '--outDir', BUILD, '--declaration', 'false'],
    { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  return BUILD;
}

function runChild(mode: 'parse' | 'check', g: Generated, build: string): RunResult {
  const run = spawnSync(process.execPath, ['--max-old-space-size=4096', path.join(__dirname, 'check-child.js'), mode, g.file, build],
    { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`${mode} run failed (exit ${run.status}): ${run.stderr}`);
  const result: RunResult = JSON.parse(run.stdout);
  const wrong = mode === 'check'
    ? result.objects !== g.objects || result.deployments !== g.services || result.errors !== g.plantedErrors
    : result.objects !== g.objects || result.deployments !== g.services;
  if (wrong) {
    throw new Error(`${mode}: ${result.deployments} Deployments in ${result.objects} objects and ${result.errors} errors; `
      + `expected ${g.services}, ${g.objects} and ${mode === 'check' ? g.plantedErrors : 0}`);
  }
  return result;
}

function main(): void {
  const opts = new Command('bench:check')
    .option('--sizes <list>', 'services per size, comma-separated (4 objects each)', (v) => v.split(',').map(Number), [2000, 20000])
    .option('--runs <n>', 'runs of each kind per size, each in a fresh process', Number, 9)
    .option('--no-write', 'print the section only, do not touch docs/benchmarks.md')
    .parse(process.argv);
  const o = opts.opts<{ sizes: number[]; runs: number; write: boolean }>();
  if (o.sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--sizes: whole numbers of services, e.g. 2000,20000');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-bench-check-'));
  try {
    process.stderr.write('compiling src/ into .bench-build/...\n');
    const build = compile();
    const results: SizeResult[] = [];
    for (const services of o.sizes) {
      process.stderr.write(`generating ${services} services from the examples...\n`);
      const generated = generate(services, dir);
      const result: SizeResult = { generated, parse: [], check: [] };
      for (let i = 0; i < o.runs; i++) {
        for (const mode of ['parse', 'check'] as const) {
          const run = runChild(mode, generated, build);
          result[mode].push(run);
          process.stderr.write(`${generated.objects} objects, ${mode} run ${i + 1}/${o.runs}: ${sec(run.ms)} (CPU ${sec(run.cpuMs)}), peak RSS ${mib(run.maxRssBytes)}\n`);
        }
      }
      results.push(result);
    }
    const text = section(results, `npx ts-node --project tsconfig.dev.json bench/check.ts${process.argv.slice(2).length > 0 ? ` ${process.argv.slice(2).join(' ')}` : ''}`);
    process.stdout.write(text + '\n');
    if (o.write) writeSection(text, START, END);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(BUILD, { recursive: true, force: true });
  }
}

main();
