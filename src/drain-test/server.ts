/**
 * The drain test's server side: the user's server command, started in a fresh `{dir}` in its own
 * process group, the tail of its output for error messages, its exit, and the wait until it answers.
 */
import { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { getOnce } from './clients';
import { describeExit, DOWNLOAD_FILE, DrainTestError, DrainTestOptions, round, sleep } from './model';
import { ProcessTracker } from '../process/procs';
import { renderServerCommand, RenderedServerCommand } from '../process/server-command';

const OUTPUT_TAIL_BYTES = 4096;

/** How and when (performance.now()) the server process ended. */
export interface ServerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly at: number;
}

/** The server under test, from its `{dir}` to its exit. */
export class ServerUnderTest {
  /**
   * Makes `{dir}` (readable by servers that drop privileges), renders the command and its templates
   * into it, and writes the download file when there are downloads. Nothing runs yet.
   */
  public static prepare(options: DrainTestOptions, host: string, port: number): ServerUnderTest {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-drain-'));
    // Servers that drop privileges (nginx and Apache workers started as root) must read {dir}.
    fs.chmodSync(dir, 0o755);
    const rendered = renderServerCommand(options.server, { host, port, dir });
    if (options.download !== undefined) {
      const file = path.join(dir, DOWNLOAD_FILE);
      fs.writeFileSync(file, '');
      fs.truncateSync(file, options.download.bytes); // sparse: instant, reads as zeros
      fs.chmodSync(file, 0o644);
    }
    return new ServerUnderTest(dir, rendered, host, port);
  }

  private readonly tracker = new ProcessTracker();
  private output = '';
  private child: ChildProcess | undefined;
  private exitInfo: ServerExit | undefined;
  private spawnFailure: string | undefined;
  /** Resolves when the process has exited. */
  private exitedPromise: Promise<unknown> = Promise.resolve();

  private constructor(
    public readonly dir: string,
    private readonly rendered: RenderedServerCommand,
    private readonly host: string,
    private readonly port: number,
  ) {}

  /** The command line as run. */
  public get argv(): string[] {
    return this.rendered.argv;
  }

  /** The process id (after start). */
  public get pid(): number {
    return this.child!.pid!;
  }

  /** The server's last output lines, prefixed for an error message ('' when it printed nothing). */
  public tail(): string {
    return this.output.trim() === '' ? '' : `\n--- last output of the server ---\n${this.output.trim().split('\n').slice(-15).join('\n')}`;
  }

  /** The tail of the server's stdout and stderr. */
  public get serverOutput(): string {
    return this.output;
  }

  /** Its exit, once it has exited. A method: TypeScript would keep a property's narrowing across awaits. */
  public exitRecord(): ServerExit | undefined {
    return this.exitInfo;
  }

  /** Resolves when the process has exited. */
  public get exited(): Promise<unknown> {
    return this.exitedPromise;
  }

  /** Spawns the command in `{dir}`, in its own process group, keeping the tail of its output. */
  public start(): void {
    const { child, exited } = this.tracker.spawn(this.rendered.argv[0], this.rendered.argv.slice(1), {
      env: { ...process.env, ...this.rendered.env },
      cwd: this.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.once('error', (e: NodeJS.ErrnoException) => {
      this.spawnFailure = e.code === 'ENOENT' ? `command not found: ${this.rendered.argv[0]}` : `cannot run ${this.rendered.argv[0]}: ${e.message}`;
    });
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exitedPromise = exited;
    void exited.then((info) => {
      this.exitInfo = { ...info, at: performance.now() };
    });
  }

  /**
   * Polls GET `probePath` until the server answers (any status), then checks that it stayed in the
   * foreground. Returns the start-up time in seconds. Throws DrainTestError when it fails to start,
   * exits, or never answers within `startTimeoutMs`.
   */
  public async waitUntilAnswering(probePath: string, startTimeoutMs: number, log: (line: string) => void, abort?: AbortSignal): Promise<number> {
    const { host, port } = this;
    const startedAt = performance.now();
    let answered: { status: number } | undefined;
    while (answered === undefined) {
      if (abort?.aborted) throw new DrainTestError('interrupted');
      await sleep(100);
      if (this.spawnFailure !== undefined) throw new DrainTestError(this.spawnFailure);
      const exit = this.exitRecord();
      if (exit !== undefined) {
        throw new DrainTestError(`the server exited (${describeExit(exit)}) ${round((exit.at - startedAt) / 1000, 1)} s after it started, `
          + `before it answered on ${host}:${port}${this.tail()}`);
      }
      if (performance.now() - startedAt > startTimeoutMs) {
        throw new DrainTestError(`the server never answered GET ${probePath} on ${host}:${port} within ${startTimeoutMs / 1000} s; `
          + `does the command listen on {host}:{port} (or $HOST/$PORT)?${this.tail()}`);
      }
      const r = await getOnce(host, port, probePath, 2000);
      if ('status' in r) answered = r;
    }
    const startupSeconds = round((performance.now() - startedAt) / 1000);
    log(`answering after ${startupSeconds} s (GET ${probePath} -> ${answered.status})`);
    await sleep(200);
    const exit = this.exitRecord();
    if (exit !== undefined) {
      throw new DrainTestError(`the command exited (${describeExit(exit)}) right after it started although ${host}:${port} answers: `
        + 'it probably went to the background. Run it in the foreground (nginx: -g \'daemon off;\', Apache: -DFOREGROUND); '
        + `a background copy may still be listening on ${host}:${port}${this.tail()}`);
    }
    return startupSeconds;
  }

  /** Sends `signal` to the process itself (as the container runtime does to PID 1). */
  public signal(signal: NodeJS.Signals): void {
    process.kill(this.pid, signal);
  }

  /** Kills the process group (the server and any workers it forked). */
  public killGroup(signal: NodeJS.Signals): void {
    this.tracker.killGroup(this.pid, signal);
  }

  /** Kills whatever is left, and removes `{dir}`. */
  public async dispose(): Promise<void> {
    await this.tracker.killAll();
    this.tracker.dispose();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
