import { ChildProcess, spawn, SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';

/** How a child ended. */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A TCP port that was free a moment ago on `host` (bind port 0, read it, close). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * True when `pid` is a live process. A zombie (exited, not yet reaped by a parent that is no longer
 * ours, e.g. a grandchild re-parented to an init that does not reap) counts as gone.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Format: "pid (comm) S ...": the state follows the last ')'.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false; // /proc entry vanished between the two checks: gone
  }
}

interface Tracked {
  readonly child: ChildProcess;
  readonly exited: Promise<ExitInfo>;
  done: boolean;
}

/**
 * Spawns every child in its own process group and remembers it, so that everything (including
 * grandchildren such as the `sleep` of a preStop shell) can be killed by group at the end, on
 * errors, and on SIGINT/SIGTERM of the parent.
 */
export class ProcessTracker {
  /** Every pid ever spawned through this tracker (for "nothing left running" checks). */
  public readonly allPids: number[] = [];
  private readonly tracked = new Map<number, Tracked>();
  private readonly exitHook: () => void;

  constructor() {
    this.exitHook = () => this.killAllSync();
    // Last resort: if the parent exits without cleaning up, do not leave children behind.
    process.on('exit', this.exitHook);
  }

  /** Spawn `command` detached (own process group); stdio as given. */
  public spawn(command: string, args: readonly string[], options: SpawnOptions = {}): { child: ChildProcess; exited: Promise<ExitInfo> } {
    const child = spawn(command, args, { ...options, detached: true });
    const exited = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', () => resolve({ code: null, signal: null }));
    });
    if (child.pid === undefined) {
      // spawn failed (ENOENT, EACCES); 'error' follows asynchronously.
      return { child, exited };
    }
    const entry: Tracked = { child, exited, done: false };
    this.allPids.push(child.pid);
    this.tracked.set(child.pid, entry);
    void exited.then(() => {
      entry.done = true;
    });
    return { child, exited };
  }

  /** Send `signal` to the child's whole process group (falls back to the pid). */
  public killGroup(pid: number, signal: NodeJS.Signals): void {
    try {
      process.kill(-pid, signal);
    } catch {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
  }

  /** SIGKILL every process group still around and wait (bounded) until every child has been reaped. */
  public async killAll(timeoutMs = 5000): Promise<void> {
    const waits: Promise<unknown>[] = [];
    for (const [pid, t] of this.tracked) {
      // Kill the group even if the leader is gone: grandchildren may still be in it.
      this.killGroup(pid, 'SIGKILL');
      if (!t.done) waits.push(t.exited);
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(waits),
      new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); }),
    ]);
    clearTimeout(timer);
  }

  /** Stop watching for parent exit (call after killAll). */
  public dispose(): void {
    process.removeListener('exit', this.exitHook);
  }

  private killAllSync(): void {
    for (const pid of this.tracked.keys()) this.killGroup(pid, 'SIGKILL');
  }
}
