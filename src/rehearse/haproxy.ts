import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { ExitInfo, freePort, ProcessTracker } from '../process/procs';

export class HaproxyNotFoundError extends Error {
  constructor(where: string) {
    super(`haproxy not found${where}: install it (apt-get install haproxy)`);
    this.name = 'HaproxyNotFoundError';
  }
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * Locate the haproxy binary: an explicit path must exist; otherwise search PATH and then the usual
 * sbin directories (Debian installs it as /usr/sbin/haproxy, which is not on a normal user's PATH).
 */
export function findHaproxy(explicit?: string, searchDirs: readonly string[] = defaultSearchDirs()): string {
  if (explicit !== undefined) {
    if (isExecutable(explicit)) return explicit;
    throw new HaproxyNotFoundError(` at ${explicit}`);
  }
  for (const d of searchDirs) {
    const candidate = path.join(d, 'haproxy');
    if (isExecutable(candidate)) return candidate;
  }
  throw new HaproxyNotFoundError('');
}

/** PATH, then the sbin directories. */
export function defaultSearchDirs(envPath: string = process.env.PATH ?? ''): string[] {
  return [...envPath.split(path.delimiter).filter((d) => d !== ''), '/usr/sbin', '/usr/local/sbin', '/sbin'];
}

/**
 * The HAProxy configuration used as the "cloud load balancer". Deliberately unforgiving, so the rig
 * shows what clients of a real LB would see:
 * - `retries 0`, `retry-on none` and no `option redispatch`: a refused or reset backend connection
 *   is returned to the client as 503/502, never retried on another pod;
 * - no health checks: a backend leaves the pool only when the rig deregisters it (the cloud LB's
 *   deregistration after the endpoint turned not-ready), not because HAProxy noticed it died;
 * - LB-to-pod connections are reused like a cloud LB's (`http-reuse always`) and kept idle for the
 *   LB's idle timeout (`pool-purge-delay` on each server, `timeout server`): when the app closes an
 *   idle connection earlier, HAProxy can reuse it just as it closes, and the client gets a 502, the
 *   classic idle-close race;
 * - long client-side timeouts: the probe's own timeout is the one that fires.
 */
export function haproxyConfig(opts: { port: number; socket: string; backend: string; idleTimeoutMs?: number }): string {
  const idle = Math.max(1, Math.round(opts.idleTimeoutMs ?? 300_000));
  return [
    'global',
    `  stats socket ${opts.socket} mode 600 level admin`,
    '  stats timeout 10m',
    '',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 300s',
    `  timeout server ${Math.max(idle, 300_000)}ms`,
    '  timeout http-request 30s',
    '  timeout http-keep-alive 300s',
    '  retries 0',
    '  option http-keep-alive',
    '',
    'frontend gws',
    `  bind 127.0.0.1:${opts.port}`,
    `  default_backend ${opts.backend}`,
    '',
    `backend ${opts.backend}`,
    '  balance roundrobin',
    '  retry-on none',
    '  http-reuse always',
    '',
  ].join('\n');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A running HAProxy with a backend whose servers are managed through the runtime API. */
export class Haproxy {
  /** Start HAProxy in the foreground (`-db`) under `tracker`; retries with another port if the first one was taken. */
  public static async start(opts: {
    binary: string; dir: string; tracker: ProcessTracker; backend?: string; idleTimeoutMs?: number;
  }): Promise<Haproxy> {
    const backend = opts.backend ?? 'pods';
    let lastError = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const socket = path.join(opts.dir, `haproxy-${attempt}.sock`);
      const cfg = path.join(opts.dir, `haproxy-${attempt}.cfg`);
      const logFile = path.join(opts.dir, `haproxy-${attempt}.log`);
      fs.writeFileSync(cfg, haproxyConfig({ port, socket, backend, idleTimeoutMs: opts.idleTimeoutMs }));
      const log = fs.openSync(logFile, 'w');
      const { child, exited } = opts.tracker.spawn(opts.binary, ['-db', '-f', cfg], { stdio: ['ignore', log, log] });
      fs.closeSync(log);
      let exitInfo: ExitInfo | undefined;
      void exited.then((e) => { exitInfo = e; });
      const hap = new Haproxy(child.pid ?? -1, port, socket, backend, exited, Math.max(1, Math.round(opts.idleTimeoutMs ?? 300_000)));
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && exitInfo === undefined) {
        try {
          await hap.command('show info');
          await new Promise<void>((resolve, reject) => {
            const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(); });
            c.once('error', reject);
          });
          return hap;
        } catch {
          await sleep(20);
        }
      }
      if (exitInfo === undefined) opts.tracker.killGroup(hap.pid, 'SIGKILL');
      await exited;
      lastError = fs.readFileSync(logFile, 'utf8').trim();
    }
    throw new Error(`haproxy did not start: ${lastError}`);
  }

  private constructor(
    public readonly pid: number,
    public readonly port: number,
    private readonly socket: string,
    public readonly backend: string,
    public readonly exited: Promise<ExitInfo>,
    /** How long idle LB-to-pod connections are kept (real ms). */
    public readonly idleTimeoutMs: number = 300_000,
  ) {}

  /** Run one runtime API command and return its output. */
  public command(cmd: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const c = net.connect(this.socket);
      let out = '';
      c.setEncoding('utf8');
      c.on('data', (d: string) => { out += d; });
      c.once('error', reject);
      c.once('end', () => resolve(out.trim()));
      c.write(cmd + '\n');
    });
  }

  /** Add a server and put it in rotation (`add server` + `enable server`). */
  public async register(name: string, address: string, port: number): Promise<void> {
    const added = await this.command(`add server ${this.backend}/${name} ${address}:${port} pool-purge-delay ${this.idleTimeoutMs}ms pool-max-conn 1000`);
    if (!/New server registered/i.test(added)) throw new Error(`haproxy add server ${name}: ${added}`);
    const enabled = await this.command(`enable server ${this.backend}/${name}`);
    if (enabled !== '') throw new Error(`haproxy enable server ${name}: ${enabled}`);
  }

  /**
   * Take a server out of rotation (`disable server` = state maint): no new requests go to it,
   * requests already sent to it continue. The server stays declared, so a late
   * request can never be routed to a reused address.
   */
  public async deregister(name: string): Promise<void> {
    const out = await this.command(`disable server ${this.backend}/${name}`);
    if (out !== '') throw new Error(`haproxy disable server ${name}: ${out}`);
  }
}
