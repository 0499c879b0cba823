/**
 * A pod's container as a process on this machine: the demo app (default) or the user's real server
 * (`--app-command`), each on its own loopback address (a stand-in for a pod IP), plus the kubelet's
 * readiness probe against it.
 */
import { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { LatencyRange, SigtermMode } from '../demo-app/demo-app';
import { ReadinessProbeSpec } from '../manifests/deployment-spec';
import { ExitInfo, freePort, ProcessTracker } from '../process/procs';
import { renderServerCommand, ServerCommandSpec } from '../process/server-command';

/** What runs in each pod. */
export type PodApp =
  | {
    readonly kind: 'demo';
    readonly mode: SigtermMode;
    /** Model ms. */
    readonly latency: LatencyRange;
    /** Model seconds. */
    readonly keepAliveSeconds: number;
    /** One-way LB-to-pod network delay, model ms (idle-close race window). */
    readonly networkDelayMs?: number;
  }
  | { readonly kind: 'command'; readonly spec: ServerCommandSpec };

export interface PodProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly address: string;
  readonly port: number;
  readonly exited: Promise<ExitInfo>;
  /** Last lines of its stderr (for error messages). */
  readonly stderrTail: () => string;
}

export class PodStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PodStartError';
  }
}

function nodeModulesDir(): string | undefined {
  try {
    const req = createRequire(__filename);
    let dir = path.dirname(req.resolve('commander'));
    while (path.basename(dir) !== 'node_modules' && path.dirname(dir) !== dir) dir = path.dirname(dir);
    return path.basename(dir) === 'node_modules' ? dir : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How to start the demo app: the compiled demo app in ../demo-app/; when running from TypeScript
 * sources (ts-node / ts-jest) transpile `demo-app.ts` once into `dir` and run that with plain node,
 * so each pod starts as fast as it would from the published package.
 */
export function demoAppCommand(dir: string): { argv: string[]; env: NodeJS.ProcessEnv } {
  const demoDir = path.join(__dirname, '..', 'demo-app');
  const js = path.join(demoDir, 'demo-app.js');
  if (fs.existsSync(js)) return { argv: [process.execPath, js], env: {} };
  const ts = path.join(demoDir, 'demo-app.ts');
  if (!fs.existsSync(ts)) throw new PodStartError(`cannot find the demo app in ${demoDir}`);
  const file = path.join(dir, 'demo-app.js');
  if (!fs.existsSync(file)) {
    const typescript = createRequire(__filename)('typescript');
    const out = typescript.transpileModule(fs.readFileSync(ts, 'utf8'), {
      compilerOptions: { module: typescript.ModuleKind.CommonJS, target: typescript.ScriptTarget.ES2022, esModuleInterop: true },
    });
    fs.writeFileSync(file, out.outputText);
  }
  const nm = nodeModulesDir();
  return { argv: [process.execPath, file], env: nm ? { NODE_PATH: nm } : {} };
}

export interface StartPodOptions {
  readonly tracker: ProcessTracker;
  readonly app: PodApp;
  readonly name: string;
  readonly address: string;
  /** Scratch directory of the rehearsal (a per-pod directory is made inside). */
  readonly dir: string;
  readonly timeScale: number;
  readonly readinessPath: string;
  readonly stopSignal: NodeJS.Signals;
  /** Give up after this many real ms. */
  readonly startTimeoutMs?: number;
}

/** Start one pod's process; resolves once it listens (demo app) or has been spawned (real server). */
export async function startPodProcess(o: StartPodOptions): Promise<PodProcess> {
  let stderr = '';
  const tail = () => stderr.trim().split('\n').slice(-5).join('\n');
  if (o.app.kind === 'command') {
    const port = await freePort(o.address);
    const podDir = path.join(o.dir, 'pods', o.name);
    fs.mkdirSync(podDir, { recursive: true });
    const rendered = renderServerCommand(o.app.spec, { host: o.address, port, dir: podDir, name: o.name });
    const { child, exited } = o.tracker.spawn(rendered.argv[0], rendered.argv.slice(1), {
      stdio: ['ignore', 'ignore', 'pipe'],
      cwd: podDir,
      env: { ...process.env, ...rendered.env },
    });
    child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
    if (child.pid === undefined) {
      await exited;
      throw new PodStartError(`cannot start ${rendered.argv[0]}: not found or not executable`);
    }
    return { child, pid: child.pid, address: o.address, port, exited, stderrTail: tail };
  }
  const demo = demoAppCommand(o.dir);
  const s = o.timeScale;
  const argv = [...demo.argv.slice(1), '--port', '0', '--host', o.address,
    '--latency', `${o.app.latency.minMs * s}-${o.app.latency.maxMs * s}`,
    '--readiness-path', o.readinessPath, '--on-sigterm', o.app.mode, '--name', o.name,
    '--keep-alive-timeout', String(o.app.keepAliveSeconds * 1000 * s), '--stop-signal', o.stopSignal,
    '--network-delay', String((o.app.networkDelayMs ?? 0) * s)];
  const { child, exited } = o.tracker.spawn(demo.argv[0], argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...demo.env } });
  child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  const port = await new Promise<number>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new PodStartError(`pod ${o.name} did not start listening within ${(o.startTimeoutMs ?? 30_000) / 1000} s`)), o.startTimeoutMs ?? 30_000);
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      const line = stdout.split('\n').find((l) => l.includes('"listening"'));
      if (!line) return;
      clearTimeout(timer);
      child.stdout?.removeAllListeners('data');
      child.stdout?.resume();
      resolve(JSON.parse(line).port);
    });
    void exited.then((e) => {
      clearTimeout(timer);
      reject(new PodStartError(`pod ${o.name} exited at start (${e.signal ?? `code ${e.code}`}): ${tail()}`));
    });
  });
  return { child, pid: child.pid!, address: o.address, port, exited, stderrTail: tail };
}

/**
 * The kubelet's readiness probe: HTTP GET of the probe path on the pod's address every period,
 * `successThreshold` successes in a row. Calls `onReady` once; `stopped()` ends it.
 */
export function probeReadiness(o: {
  address: string;
  port: number;
  path: string;
  probe: ReadinessProbeSpec | undefined;
  toRealMs: (modelSeconds: number) => number;
  stopped: () => boolean;
  onReady: () => void;
  timers: NodeJS.Timeout[];
}): void {
  // Without a readiness probe the kubelet counts a started container as ready; still wait until it
  // answers at all, so that a slow start is not mistaken for a ready pod.
  const period = o.probe?.periodSeconds ?? 0.2;
  const needed = o.probe?.successThreshold ?? 1;
  let successes = 0;
  const again = () => o.timers.push(setTimeout(once, Math.max(o.toRealMs(period), 5)));
  const once = () => {
    if (o.stopped()) return;
    const req = http.get({
      host: o.address,
      port: o.port,
      path: o.path,
      agent: false,
      headers: { 'user-agent': 'kube-probe/1.30 (gws rehearse)' },
      timeout: Math.max(1000, o.toRealMs(1)),
    }, (res) => {
      res.resume();
      const ok = res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 400;
      successes = ok || o.probe === undefined ? successes + 1 : 0;
      if (successes >= needed) o.onReady();
      else again();
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => {
      successes = 0;
      again();
    });
  };
  o.timers.push(setTimeout(once, o.toRealMs(o.probe?.initialDelaySeconds ?? 0)));
}
