/**
 * Lag meter benchmark (`npm run bench:lag-meter`): per provider profile and probe rate, rehearse
 * the meter's own manifest with `measure --rehearse` and compare every measured per-pod delay with
 * the one the rehearsal drew (its own record). Writes the bench:lag-meter section of
 * docs/benchmarks.md and bench/results/lag-meter.json.
 *
 *   npx ts-node --project tsconfig.dev.json bench/lag-meter.ts [--rates 5,10,20,40] [--profiles ...] [--rollouts 3] [--scale 0.1] [--no-write]
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { writeSection } from './sections';
import { deriveShutdownBudget } from '../src/budget';
import { percentile } from '../src/measure/analysis';
import { defaultLoadBalancer, lagMeterManifest } from '../src/measure/meter-manifest';
import { measureRehearsal } from '../src/measure/rehearsal';
import { LB_PROFILE_IDS, LB_PROFILES, LbProfileId } from '../src/rehearse/lb-profiles';

const ROOT = path.join(__dirname, '..');
const THRESHOLD = 0.5;

export interface Row {
  readonly profile: LbProfileId;
  /** Requests per model second. */
  readonly rate: number;
  readonly waitSeconds: number;
  readonly terminations: number;
  readonly registrations: number;
  readonly modelMinutes: number;
  readonly resolutionSeconds: number | null;
  /** measured - true, model seconds, per pod. */
  readonly deregistrationErrors: number[];
  readonly registrationErrors: number[];
  /** Deleted pods the measurement did not see terminating. */
  readonly missed: number;
  readonly failed: number;
  readonly requests: number;
  readonly wallSeconds: number;
}

/** The meter's wait for a profile: the real service's preStop wait, and beyond the profile's largest lag. */
export function meterWait(profile: LbProfileId): number {
  const real = deriveShutdownBudget({ defaultDeregistrationDelay: defaultLoadBalancer(profile).defaultDeregistrationDelay }).preStopSleepSeconds;
  return Math.max(real, LB_PROFILES[profile].deregistrationLag.tailMaxSeconds + 10);
}

async function runRow(profile: LbProfileId, rate: number, o: { rollouts: number; scale: number; seed: number }): Promise<Row> {
  const started = Date.now();
  const wait = meterWait(profile);
  const outcome = await measureRehearsal({
    inputs: [{ file: `lag-meter-${profile}.k8s.yaml`, text: lagMeterManifest({ provider: profile, waitSeconds: wait }) }],
    provider: profile,
    timeScale: o.scale,
    rate,
    rollouts: o.rollouts,
    seed: o.seed,
    minTerminations: 1,
  });
  const truth = new Map(outcome.truth.map((t) => [t.pod, t]));
  const dErr = outcome.report.deregistration.pods.map((p) => p.seconds - truth.get(p.pod)!.deregistrationLag!);
  const rErr = outcome.report.registration.pods.map((p) => p.seconds - truth.get(p.pod)!.registrationDelay!);
  const deleted = outcome.truth.filter((t) => t.deregistrationLag !== undefined).length;
  return {
    profile,
    rate,
    waitSeconds: wait,
    terminations: outcome.report.deregistration.observed,
    registrations: outcome.report.registration.observed,
    modelMinutes: outcome.modelSeconds / 60,
    resolutionSeconds: outcome.report.deregistration.resolutionSeconds,
    deregistrationErrors: dErr,
    registrationErrors: rErr,
    missed: deleted - outcome.report.deregistration.observed,
    failed: outcome.summary.failed,
    requests: outcome.summary.total,
    wallSeconds: (Date.now() - started) / 1000,
  };
}

const f2 = (x: number | null) => (x === null ? '-' : x.toFixed(2));

function errorStats(errors: readonly number[]): { n: number; mean: number | null; p50: number | null; p95: number | null; max: number | null } {
  const abs = errors.map(Math.abs).sort((a, b) => a - b);
  const mean = errors.length === 0 ? null : errors.reduce((s, x) => s + x, 0) / errors.length;
  return { n: errors.length, mean, p50: percentile(abs, 50), p95: percentile(abs, 95), max: abs.length ? abs[abs.length - 1] : null };
}

/** The smallest rate of a profile whose every per-pod error (both delays) stayed under the threshold. */
export function smallestGoodRate(rows: readonly Row[], profile: LbProfileId): number | null {
  const good = rows.filter((r) => r.profile === profile && r.missed === 0 && r.terminations > 0
    && [...r.deregistrationErrors, ...r.registrationErrors].every((e) => Math.abs(e) < THRESHOLD)).map((r) => r.rate);
  return good.length === 0 ? null : Math.min(...good);
}

export interface ReportInfo {
  readonly command: string;
  readonly commit: string;
  readonly dirty: boolean;
  readonly date: string;
  readonly nproc: string;
  readonly node: string;
  readonly scale: number;
  readonly rollouts: number;
}

export function report(rows: readonly Row[], info: ReportInfo): string {
  const profiles = [...new Set(rows.map((r) => r.profile))];
  const sections = profiles.map((profile) => {
    const lines = rows.filter((r) => r.profile === profile).map((r) => {
      const d = errorStats(r.deregistrationErrors);
      const g = errorStats(r.registrationErrors);
      return `| ${r.rate} | ${r.terminations} (${r.missed} missed) | ${(r.terminations / r.modelMinutes).toFixed(2)} | ${f2(r.resolutionSeconds)} | `
        + `${f2(d.mean)} / ${f2(d.p50)} / ${f2(d.p95)} / ${f2(d.max)} | ${g.n} | ${f2(g.mean)} / ${f2(g.p50)} / ${f2(g.p95)} / ${f2(g.max)} | ${r.failed} of ${r.requests} |`;
    });
    const best = smallestGoodRate(rows, profile);
    return [
      `### ${profile} (lag ${LB_PROFILES[profile].deregistrationLag.minSeconds}-${LB_PROFILES[profile].deregistrationLag.tailMaxSeconds} s; meter wait ${rows.find((r) => r.profile === profile)!.waitSeconds} s)`,
      '',
      '| rate (req/model s) | terminations seen | terminations per model minute | resolution (s) | D error mean / p50 / p95 / max abs (s) | registrations seen | registration error mean / p50 / p95 / max abs (s) | requests failed |',
      '|---|---|---|---|---|---|---|---|',
      ...lines,
      '',
      best === null ? `No rate tested kept every error under ${THRESHOLD} s.` : `Smallest rate tested that kept every per-pod error under ${THRESHOLD} s: **${best} requests per second** (model seconds here; per second on a cluster).`,
    ].join('\n');
  });
  return `<!-- bench:lag-meter:start -->
## Lag meter: measured against true lag

\`measure --rehearse\` per provider profile and probe rate: the rehearsal runs the meter's own
manifest (LagMeter construct, wait as in the table), draws each pod's deregistration lag and
registration delay from the profile, and the measurement reads them from the meter's headers only.
Error = measured - drawn, per pod, in model seconds: for D mostly negative (the last request before
the load balancer let go arrived that much before it), for registration mostly positive (the first
request after the load balancer took the pod in arrived that much after it). Terminations per minute
count pods seen terminating per model minute of load, ${info.rollouts} rollout(s) of 2 replicas per row.

${sections.join('\n\n')}

| | |
|---|---|
| command | \`${info.command}\` (\`npm run bench:lag-meter\`) |
| commit | \`${info.commit}\`${info.dirty ? ' (with uncommitted changes)' : ''} |
| time scale | ${info.scale} (all times model seconds) |
| date | ${info.date} |
| CPUs (\`nproc\`) / node | ${info.nproc} / ${info.node} |

Raw numbers: [bench/results/lag-meter.json](../bench/results/lag-meter.json).
<!-- bench:lag-meter:end -->`;
}

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', cwd: ROOT }).trim();
  } catch (e) {
    return `(${cmd} failed: ${(e as Error).message})`;
  }
}

async function main(): Promise<void> {
  const list = (v: string) => v.split(',').map((x) => x.trim()).filter((x) => x !== '');
  const opts = new Command('bench:lag-meter')
    .option('--rates <list>', 'probe rates, requests per model second', (v) => list(v).map(Number), [5, 10, 20, 40])
    .option('--profiles <list>', 'provider profiles', list, [...LB_PROFILE_IDS])
    .option('--rollouts <n>', 'rollouts per row', Number, 3)
    .option('--scale <x>', 'time scale', Number, 0.1)
    .option('--seed <n>', 'seed', Number, 11)
    .option('--no-write', 'print the section only')
    .parse(process.argv)
    .opts();
  const rows: Row[] = [];
  for (const profile of opts.profiles as LbProfileId[]) {
    for (const rate of opts.rates as number[]) {
      process.stderr.write(`${profile} at ${rate} req/model s ... `);
      const row = await runRow(profile, rate, { rollouts: opts.rollouts, scale: opts.scale, seed: opts.seed });
      rows.push(row);
      process.stderr.write(`${row.terminations} terminations, max |D error| ${f2(errorStats(row.deregistrationErrors).max)} s (${row.wallSeconds.toFixed(0)} s)\n`);
    }
  }
  const info: ReportInfo = {
    command: `npx ts-node --project tsconfig.dev.json bench/lag-meter.ts${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}`,
    commit: sh('git', ['rev-parse', 'HEAD']),
    dirty: sh('git', ['status', '--porcelain', '--', 'src', 'assets', 'bench']) !== '',
    date: new Date().toISOString().slice(0, 10),
    nproc: sh('nproc', []),
    node: process.version,
    scale: opts.scale,
    rollouts: opts.rollouts,
  };
  const section = report(rows, info);
  process.stdout.write(section + '\n');
  if (!opts.write) return;
  const results = path.join(ROOT, 'bench', 'results', 'lag-meter.json');
  fs.mkdirSync(path.dirname(results), { recursive: true });
  fs.writeFileSync(results, JSON.stringify({ info, rows }, null, 1) + '\n');
  writeSection(section, '<!-- bench:lag-meter:start -->', '<!-- bench:lag-meter:end -->');
  process.stderr.write('wrote docs/benchmarks.md (bench:lag-meter section), bench/results/lag-meter.json\n');
}

if (require.main === module) {
  main().catch((e: Error) => {
    process.stderr.write(`bench failed: ${e.stack ?? e.message}\n`);
    process.exit(1);
  });
}
