/**
 * Recognising the preStop wait of a container, in every form seen in practice:
 * `["sleep", "10"]`, `["sleep", "5s"]`, `["sh", "-c", "sleep 10"]`, scripts with more than a sleep,
 * the native `preStop.sleep.seconds` action, and this library's wrapper
 * `["/bin/sh", "-c", "\"$@\"; sleep W", "prestop", <command...>]` (src/prestop.ts).
 * It only reads the manifest; nothing is run.
 */
import { parse as parseShell } from 'shell-quote';

/** What a container's preStop hook does before the stop signal. */
export interface PreStopWait {
  /** `none`: no preStop hook; `exec`: a command; `sleep-action`: the native sleep; `http`: an HTTP call. */
  readonly kind: 'none' | 'exec' | 'sleep-action' | 'http' | 'other';
  /** Seconds of waiting that certainly happen (0 when none is recognised). */
  readonly seconds: number;
  /** Whether the hook also runs something whose duration is unknown (a command, an HTTP call). */
  readonly runsUnknown: boolean;
  /** The hook as a short human-readable text, for messages. */
  readonly description: string;
}

/** A shell that runs `-c <script>` (`sh`, `/bin/bash`, busybox's `ash`, ...). */
export const SHELLS = /^(\/usr)?(\/bin\/|\/busybox\/)?(sh|bash|ash|dash|zsh)$/;
/** The `sleep` binary. */
export const SLEEP = /^(\/usr)?(\/bin\/)?sleep$/;
const UNITS: { [unit: string]: number } = { '': 1, 's': 1, 'm': 60, 'h': 3600, 'd': 86400 };

/**
 * The seconds of `sleep <args...>` (GNU coreutils and busybox: numbers with an optional s/m/h/d
 * suffix, several arguments add up), or undefined when an argument is not a literal duration.
 */
export function sleepSeconds(args: readonly string[]): number | undefined {
  if (args.length === 0) return undefined;
  let total = 0;
  for (const arg of args) {
    const match = /^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$/.exec(arg);
    if (match === null) return undefined;
    total += Number(match[1]) * UNITS[match[2]];
  }
  return total;
}

type ShellToken = string | { op: string } | { comment: string } | { pattern: string } | object;

/**
 * The answers of {@link scriptWait}, by script: one chart's preStop script repeats in every copy of
 * it, and parsing a script is most of what a container's audit costs (bounded: cleared when full).
 */
const SCRIPT_WAITS = new Map<string, { seconds: number; runsUnknown: boolean }>();
const SCRIPT_WAITS_MAX = 1024;

/** Seconds of certain waiting in a shell script, and whether it runs anything else (remembered per script). */
function scriptWait(script: string): { seconds: number; runsUnknown: boolean } {
  let answer = SCRIPT_WAITS.get(script);
  if (answer === undefined) {
    if (SCRIPT_WAITS.size >= SCRIPT_WAITS_MAX) SCRIPT_WAITS.clear();
    answer = parseScriptWait(script);
    SCRIPT_WAITS.set(script, answer);
  }
  return { ...answer };
}

function parseScriptWait(script: string): { seconds: number; runsUnknown: boolean } {
  // Newlines separate commands like ";" (a trailing backslash continues the line).
  const text = script.replace(/\\\r?\n/g, ' ').replace(/\r?\n/g, ' ; ');
  let tokens: ShellToken[];
  try {
    // Keep variables literal ("$@" stays "$@"): nothing is expanded or run.
    tokens = parseShell(text, (name: string) => `$${name}`) as ShellToken[];
  } catch {
    return { seconds: 0, runsUnknown: true };
  }
  let seconds = 0;
  let runsUnknown = false;
  // Whether the next command certainly runs: after `||` it may not; after `cmd &&` neither
  // (cmd may fail); a `;` restores certainty. Background commands (`&`) do not delay anything.
  let certain = true;
  let words: string[] = [];
  let previousWasSleep = false;
  const flush = (op: string | undefined) => {
    if (words.length > 0) {
      const isSleep = SLEEP.test(words[0]);
      const value = isSleep ? sleepSeconds(words.slice(1)) : undefined;
      const background = op === '&';
      if (isSleep && value !== undefined) {
        if (certain && !background) seconds += value;
      } else if (!(words.length === 1 && /^(true|:|exit)$/.test(words[0]))) {
        runsUnknown = true;
      }
      previousWasSleep = isSleep && value !== undefined;
    }
    words = [];
    if (op === undefined || op === ';' || op === '&' || op === ';;') {
      certain = true;
    } else if (op === '||') {
      certain = false;
    } else if (op === '&&') {
      certain = certain && previousWasSleep;
    } else {
      // Pipes, redirections, subshells: too clever to time; keep what was certain so far.
      certain = false;
      runsUnknown = true;
    }
  };
  for (const token of tokens) {
    if (typeof token === 'string') {
      words.push(token);
    } else if ('op' in token) {
      flush((token as { op: string }).op);
    } else if ('comment' in token) {
      continue;
    } else {
      words.push(String((token as { pattern?: string }).pattern ?? ''));
    }
  }
  flush(undefined);
  return { seconds, runsUnknown };
}

/**
 * The lag meter's hook (src/lag-meter.ts): its server, run from its ConfigMap, holds `/prestop`
 * for METER_WAIT_SECONDS. Recognised only when the container runs the meter's file.
 */
function lagMeterWait(container: { [key: string]: any }, httpGet: { [key: string]: any }): number | undefined {
  const runsMeter = Array.isArray(container.command) && container.command.some((c: unknown) => typeof c === 'string' && c.endsWith('/meter-server.js'));
  if (!runsMeter || httpGet.path !== '/prestop') return undefined;
  const env: unknown[] = Array.isArray(container.env) ? container.env : [];
  const wait = env.find((e) => (e as { name?: unknown })?.name === 'METER_WAIT_SECONDS') as { value?: unknown } | undefined;
  const seconds = Number(wait?.value ?? 180);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

/** The preStop wait of a container spec (loosely typed: any manifest). */
export function preStopWait(container: { [key: string]: any }): PreStopWait {
  const preStop = container?.lifecycle?.preStop;
  if (preStop === undefined || preStop === null || typeof preStop !== 'object') {
    return { kind: 'none', seconds: 0, runsUnknown: false, description: 'no preStop hook' };
  }
  if (preStop.sleep !== undefined) {
    const seconds = Number(preStop.sleep?.seconds);
    return {
      kind: 'sleep-action',
      seconds: Number.isFinite(seconds) && seconds > 0 ? seconds : 0,
      runsUnknown: false,
      description: `the native sleep action (${preStop.sleep?.seconds} s)`,
    };
  }
  if (preStop.httpGet !== undefined) {
    const meter = lagMeterWait(container, preStop.httpGet);
    if (meter !== undefined) {
      return { kind: 'http', seconds: meter, runsUnknown: false, description: `the lag meter's ${preStop.httpGet.path}, held ${meter} s (METER_WAIT_SECONDS)` };
    }
    return { kind: 'http', seconds: 0, runsUnknown: true, description: `an HTTP GET ${preStop.httpGet?.path ?? '/'}` };
  }
  const command: unknown = preStop.exec?.command;
  if (!Array.isArray(command) || command.length === 0 || !command.every((c) => typeof c === 'string' || typeof c === 'number')) {
    return { kind: 'other', seconds: 0, runsUnknown: true, description: 'a preStop hook of an unknown form' };
  }
  const argv = command.map(String);
  const description = `exec ${JSON.stringify(argv)}`;
  if (SLEEP.test(argv[0])) {
    const seconds = sleepSeconds(argv.slice(1));
    return { kind: 'exec', seconds: seconds ?? 0, runsUnknown: seconds === undefined, description };
  }
  const scriptIndex = argv.findIndex((arg, i) => i > 0 && /^-[a-z]*c[a-z]*$/.test(arg));
  if (SHELLS.test(argv[0]) && scriptIndex > 0 && scriptIndex + 1 < argv.length) {
    const { seconds, runsUnknown } = scriptWait(argv[scriptIndex + 1]);
    return { kind: 'exec', seconds, runsUnknown, description };
  }
  return { kind: 'exec', seconds: 0, runsUnknown: true, description };
}
