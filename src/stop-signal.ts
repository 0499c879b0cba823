// A pure value type (no cdk8s objects), so the budget arithmetic can name the signal.

/** Linux signal names Kubernetes accepts as a container stop signal (besides SIGRTMIN+n and SIGRTMAX-n). */
const LINUX_SIGNALS = new Set([
  'SIGABRT', 'SIGALRM', 'SIGBUS', 'SIGCHLD', 'SIGCLD', 'SIGCONT', 'SIGFPE', 'SIGHUP', 'SIGILL', 'SIGINT', 'SIGIO', 'SIGIOT',
  'SIGKILL', 'SIGPIPE', 'SIGPOLL', 'SIGPROF', 'SIGPWR', 'SIGQUIT', 'SIGSEGV', 'SIGSTKFLT', 'SIGSTOP', 'SIGSYS', 'SIGTERM',
  'SIGTRAP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGUSR1', 'SIGUSR2', 'SIGVTALRM', 'SIGWINCH', 'SIGXCPU', 'SIGXFSZ',
  'SIGRTMIN', 'SIGRTMAX',
]);

/**
 * The signal the container runtime sends to stop the app (after the preStop hook): the image's
 * `STOPSIGNAL` (SIGTERM when the image declares none), or `lifecycle.stopSignal` where Kubernetes
 * supports it. `drainsOnStopSignal` answers for this signal; measure the answer with
 * `cdk8s-graceful-web-service drain-test --stop-signal <signal>`.
 */
export class StopSignal {
  /** SIGTERM: what the runtime sends when the image declares no STOPSIGNAL. */
  public static readonly SIGTERM = new StopSignal('SIGTERM');
  /** SIGQUIT: nginx's graceful shutdown, declared by the official nginx images. */
  public static readonly SIGQUIT = new StopSignal('SIGQUIT');
  /** SIGWINCH: Apache httpd's graceful stop, declared by the official httpd images. */
  public static readonly SIGWINCH = new StopSignal('SIGWINCH');
  /** SIGINT: what some frameworks treat as their graceful stop (Ctrl-C). */
  public static readonly SIGINT = new StopSignal('SIGINT');
  /** SIGHUP. */
  public static readonly SIGHUP = new StopSignal('SIGHUP');
  /** SIGUSR1. */
  public static readonly SIGUSR1 = new StopSignal('SIGUSR1');
  /** SIGUSR2. */
  public static readonly SIGUSR2 = new StopSignal('SIGUSR2');

  /**
   * Any Linux signal by name, as an image's `STOPSIGNAL` names it: `SIGQUIT`, `QUIT`, `SIGRTMIN+3`.
   * Numbers are refused (they differ between architectures); so is SIGSTOP, which never stops
   * a process.
   */
  public static of(name: string): StopSignal {
    const trimmed = name.trim().toUpperCase();
    const full = trimmed.startsWith('SIG') ? trimmed : `SIG${trimmed}`;
    const realtime = /^SIG(RTMIN\+([1-9]|1[0-5])|RTMAX-([1-9]|1[0-4]))$/.test(full);
    if (!LINUX_SIGNALS.has(full) && !realtime) {
      throw new Error(`shutdown.stopSignal: unknown signal ${JSON.stringify(name)}; use a Linux signal name such as SIGTERM, SIGQUIT or SIGWINCH`);
    }
    if (full === 'SIGSTOP') {
      throw new Error('shutdown.stopSignal: SIGSTOP pauses a process instead of stopping it');
    }
    return new StopSignal(full);
  }

  /** The signal's name, for example `SIGQUIT`. */
  public readonly name: string;

  private constructor(name: string) {
    this.name = name;
  }

  /** True when an app cannot handle this signal at all (SIGKILL), so it cannot drain on it. */
  public get uncatchable(): boolean {
    return this.name === 'SIGKILL';
  }
}
