/**
 * What the rehearsal's kubelet does with a manifest's preStop hook. Safe by default: nothing a
 * manifest contains runs on the host unless the user passes `--allow-exec`.
 *
 * Recognised wait forms are not executed at all, they become a wait of the same model length, so
 * time scaling is exact and cannot lie:
 * - the native `preStop.sleep.seconds: N` action;
 * - `exec: [sleep, N]` (any path ending in `/sleep`), `exec: [sh|bash|dash, -c, "sleep N"]`;
 * - the construct's own wrapper `[/bin/sh, -c, '"$@"; sleep W', prestop, <command...>]`: the wait W
 *   is in the script, and the declared command is replaced by a wait of its declared duration C.
 *   C is not written in the manifest as such; the budget annotations record D, S and M, and a
 *   derived grace period is C plus the grace the budget derives from D, S and M alone (today
 *   D + M + S + M), so C = grace - that (an upper bound when the grace period was set explicitly,
 *   which is the worst case the budget plans for). Without the annotations C is unknown and the
 *   hook is refused without `--allow-exec`.
 *
 * Anything else needs `--allow-exec`. It then runs for real, with a time-scaled `sleep` first on
 * its PATH; a command that cannot be scaled (an absolute path to a sleep binary inside a script,
 * an unknown binary) runs at real speed, with a warning; a binary missing on the host is an error.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration } from 'cdk8s';
import { deriveShutdownBudget } from '../budget';
import { DeploymentSpec, PreStopHook, PreStopHttpGet } from '../manifests/deployment-spec';

/** One step of the hook as the rehearsal runs it. */
export type PreStopStep =
  | { readonly kind: 'wait'; readonly seconds: number; readonly why: string }
  | { readonly kind: 'exec'; readonly argv: readonly string[] }
  /** GET `path` on the pod's own address and port; the hook lasts until the answer (or the grace period). */
  | { readonly kind: 'httpGet'; readonly path: string };

export interface PreStopPlan {
  readonly steps: readonly PreStopStep[];
  /** How the hook was read, for the assumptions printed before the run. */
  readonly description: string;
  /** Printed before the run (real-speed commands, upper bounds). */
  readonly warnings: readonly string[];
}

export class PreStopRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PreStopRefusedError';
  }
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'ash', 'busybox-sh']);
const SLEEP_SCRIPT = /^\s*(?:exec\s+)?sleep\s+(\d+(?:\.\d+)?)s?\s*;?\s*$/;
/** The construct's wrapper script (src/prestop.ts): run "$@", then always wait W. */
const WRAPPER_SCRIPT = /^"\$@"; sleep (\d+)$/;

function isShell(word: string): boolean {
  return SHELLS.has(path.basename(word));
}

function isSleepBinary(word: string): boolean {
  return path.basename(word) === 'sleep';
}

function seconds(word: string | undefined): number | undefined {
  if (word === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)s?$/.exec(word);
  return m ? Number(m[1]) : undefined;
}

/** A recognised wait, or undefined. */
export function recognisedWait(command: readonly string[]): number | undefined {
  if (command.length === 2 && isSleepBinary(command[0])) return seconds(command[1]);
  if (command.length === 3 && isShell(command[0]) && command[1] === '-c') {
    const m = SLEEP_SCRIPT.exec(command[2]);
    return m ? Number(m[1]) : undefined;
  }
  return undefined;
}

/** The construct's wrapper: its wait W and the declared command, or undefined. */
export function constructWrapper(command: readonly string[]): { waitSeconds: number; command: string[] } | undefined {
  if (command.length < 5 || !isShell(command[0]) || command[1] !== '-c') return undefined;
  const m = WRAPPER_SCRIPT.exec(command[2]);
  if (!m) return undefined;
  return { waitSeconds: Number(m[1]), command: command.slice(4) };
}

/**
 * The declared duration C of a wrapped command, from the budget annotations: the grace period
 * minus the grace the budget derives from D, S and M without a command (the budget, not a copy of
 * its formula, says what that is). Undefined when an annotation is missing or the result is negative.
 */
export function declaredCommandSeconds(spec: DeploymentSpec): number | undefined {
  const { deregistrationSource, deregistrationDelaySeconds: d, drainTimeoutSeconds: s, safetyMarginSeconds: m } = spec;
  if (deregistrationSource !== 'annotation' || d === undefined || s === undefined || m === undefined) return undefined;
  const withoutCommand = deriveShutdownBudget({
    deregistrationDelay: Duration.seconds(d), drainTimeout: Duration.seconds(s), safetyMargin: Duration.seconds(m),
  }).terminationGracePeriodSeconds;
  const c = spec.terminationGracePeriodSeconds - withoutCommand;
  return c >= 0 ? c : undefined;
}

/** Whether `binary` can be executed on this host (absolute/relative path, or found on PATH). */
export function resolveBinary(binary: string, envPath: string = process.env.PATH ?? ''): string | undefined {
  const executable = (file: string) => {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  };
  if (binary.includes('/')) return executable(binary) ? binary : undefined;
  for (const dir of envPath.split(path.delimiter).filter((d) => d !== '')) {
    const candidate = path.join(dir, binary);
    if (executable(candidate)) return candidate;
  }
  return undefined;
}

function describeCommand(command: readonly string[]): string {
  return JSON.stringify(command);
}

/** How the rehearsal will run `spec`'s preStop hook; throws PreStopRefusedError when it must not. */
export function planPreStop(spec: DeploymentSpec, options: { allowExec?: boolean; timeScale?: number } = {}): PreStopPlan {
  const hook: PreStopHook | undefined = spec.preStop;
  const allowExec = options.allowExec ?? false;
  const scale = options.timeScale ?? 1;
  if (hook === undefined) return { steps: [], description: 'none', warnings: [] };
  if (hook.kind === 'sleep') {
    return { steps: [{ kind: 'wait', seconds: hook.seconds, why: 'native sleep action' }], description: `native sleep ${hook.seconds} s (modelled)`, warnings: [] };
  }
  if (hook.kind === 'httpGet') return planHttpGet(spec, hook);
  const command = hook.command;
  const wait = recognisedWait(command);
  if (wait !== undefined) {
    return { steps: [{ kind: 'wait', seconds: wait, why: describeCommand(command) }], description: `${describeCommand(command)} = wait ${wait} s (modelled, not executed)`, warnings: [] };
  }
  const wrapper = constructWrapper(command);
  if (wrapper !== undefined) {
    const finalWait: PreStopStep = { kind: 'wait', seconds: wrapper.waitSeconds, why: 'the construct wrapper\'s wait' };
    if (allowExec) {
      checkRunnable(wrapper.command);
      return {
        steps: [{ kind: 'exec', argv: wrapper.command }, finalWait],
        description: `declared command ${describeCommand(wrapper.command)} run for real (--allow-exec), then wait ${wrapper.waitSeconds} s`,
        warnings: scale !== 1 ? [`the declared command ${describeCommand(wrapper.command)} runs at real speed (only a \`sleep\` found on PATH is scaled)`] : [],
      };
    }
    const c = declaredCommandSeconds(spec);
    if (c === undefined) {
      throw new PreStopRefusedError(
        `the preStop hook wraps the command ${describeCommand(wrapper.command)} whose duration is unknown: the Deployment lacks the budget `
        + 'annotations (deregistration delay, drain timeout, safety margin) from which it is recovered as the grace period minus the budget\'s grace for D, S and M. '
        + 'Pass --allow-exec to run the command on this machine',
      );
    }
    return {
      steps: [{ kind: 'wait', seconds: c, why: `declared duration of ${describeCommand(wrapper.command)}` }, finalWait],
      description: `declared command ${describeCommand(wrapper.command)} replaced by a wait of ${c} s (grace minus the budget's grace for D, S and M), then wait ${wrapper.waitSeconds} s`,
      warnings: [`the declared command is not run (pass --allow-exec to run it); its ${c} s is an upper bound if the grace period was set explicitly`],
    };
  }
  if (!allowExec) {
    throw new PreStopRefusedError(
      `the preStop hook ${describeCommand(command)} is not a recognised wait (sleep N, sh -c "sleep N", the native sleep action, `
      + 'or the construct\'s own wrapper): rehearse does not run commands from a manifest unless you pass --allow-exec',
    );
  }
  checkRunnable(command);
  const warnings = scale !== 1
    ? [`the preStop command ${describeCommand(command)} runs for real (--allow-exec); only a \`sleep\` found on PATH is scaled by ${scale}, `
      + 'anything else (an absolute path to sleep, other binaries) runs at real speed']
    : [`the preStop command ${describeCommand(command)} runs for real (--allow-exec)`];
  return { steps: [{ kind: 'exec', argv: command }], description: `${describeCommand(command)} run for real (--allow-exec)`, warnings };
}

/**
 * An httpGet hook: the kubelet requests the pod itself and waits for the answer, bounded by the
 * grace period (https://kubernetes.io/docs/concepts/containers/container-lifecycle-hooks/: the
 * grace period's countdown starts before the hook, which must finish before the stop signal).
 * The rehearsal sends it to the pod's own address and port only; a hook aimed elsewhere
 * (`host`) or over HTTPS is refused rather than sent from this machine.
 */
function planHttpGet(spec: DeploymentSpec, hook: PreStopHttpGet): PreStopPlan {
  if (hook.host !== undefined) {
    throw new PreStopRefusedError(`the preStop httpGet hook names host ${hook.host}: rehearse sends hooks only to the pod itself, never to another host from this machine`);
  }
  if (hook.scheme !== 'HTTP') {
    throw new PreStopRefusedError(`the preStop httpGet hook uses scheme ${hook.scheme}: rehearse sends HTTP hooks only`);
  }
  if (typeof hook.port === 'string' && !/^\d+$/.test(hook.port)) {
    const ports: unknown[] = Array.isArray(spec.podSpec.containers?.[0]?.ports) ? spec.podSpec.containers[0].ports : [];
    if (!ports.some((p) => (p as { name?: unknown })?.name === hook.port)) {
      throw new PreStopRefusedError(`the preStop httpGet hook's port ${hook.port} is not a named port of container ${spec.containerName}: the kubelet's hook would fail`);
    }
  }
  return {
    steps: [{ kind: 'httpGet', path: hook.path }],
    description: `httpGet ${hook.path} on the pod's own port ${hook.port} (sent to the pod; the hook lasts until it answers, at most the grace period)`,
    warnings: [],
  };
}

function checkRunnable(command: readonly string[]): void {
  if (resolveBinary(command[0]) === undefined) {
    throw new PreStopRefusedError(`the preStop command's binary ${command[0]} does not exist on this machine: the hook would fail, which a kubelet reports as a failed hook, not as "no preStop"`);
  }
}

/** Total model seconds of the modelled waits (exec steps count 0). */
export function plannedWaitSeconds(plan: PreStopPlan): number {
  return plan.steps.reduce((sum, step) => sum + (step.kind === 'wait' ? step.seconds : 0), 0);
}
