import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { ShutdownBudget } from './budget';

/**
 * How the preStop wait is emitted.
 */
export enum PreStopAction {
  /**
   * `exec: ["/bin/sh", "-c", "sleep N"]`. Works on every Kubernetes version, but the image
   * needs a shell and a `sleep` (distroless and scratch images have neither).
   */
  EXEC_SLEEP = 'EXEC_SLEEP',

  /**
   * The native `lifecycle.preStop.sleep.seconds: N` action: nothing is needed in the image.
   * Needs Kubernetes 1.30 or later (beta, on by default; GA in 1.34). Do not use it on older
   * clusters: on 1.29 with the `PodLifecycleSleepAction` feature gate off the API server drops
   * the whole preStop hook (no wait at all), and on 1.28 and older the field is unknown, so
   * `kubectl apply` fails under its default strict field validation.
   */
  SLEEP_ACTION = 'SLEEP_ACTION',
}

/**
 * The preStop command that waits `seconds`: `/bin/sh -c "sleep N"`, or, with a custom command, the
 * wrapper that runs it exactly as given and then waits. The one place these forms are written:
 * the construct, `check`'s fixes and `check --fix` all use it.
 *
 * @internal
 */
export function preStopWaitCommand(seconds: number, command?: readonly string[]): string[] {
  // "$@" runs the command exactly as given (no re-quoting); ";" keeps the wait even if it fails,
  // because the load balancer still needs the time.
  return command === undefined
    ? ['/bin/sh', '-c', `sleep ${seconds}`]
    : ['/bin/sh', '-c', `"$@"; sleep ${seconds}`, 'prestop', ...command];
}

/**
 * The container lifecycle for the exec flavour: the custom command (if any), then the wait.
 * Returns undefined when there is nothing to run, so no empty `lifecycle: {}` is emitted.
 *
 * @internal
 */
export function execPreStopLifecycle(budget: ShutdownBudget, command: string[] | undefined): kplus.ContainerLifecycle | undefined {
  const wait = budget.preStopSleepSeconds;
  if (command === undefined) {
    return wait === 0 ? undefined : { preStop: kplus.Handler.fromCommand(preStopWaitCommand(wait)) };
  }
  if (wait === 0) {
    return { preStop: kplus.Handler.fromCommand(command) };
  }
  return { preStop: kplus.Handler.fromCommand(preStopWaitCommand(wait, command)) };
}

/**
 * Emits the native `preStop.sleep` action on one container of a Deployment.
 *
 * cdk8s-plus-27 serializes the Deployment through the Kubernetes 1.27 schema after JSON patches
 * are applied, and that schema has no `sleep` action, so a patch would be dropped and leave an
 * invalid `preStop: {}`. The field is therefore added to the final JSON of the Deployment.
 *
 * @internal
 */
export function addNativePreStopSleep(deployment: kplus.Deployment, containerName: string, seconds: number): void {
  const apiObject = ApiObject.of(deployment);
  const serialize = apiObject.toJson.bind(apiObject);
  apiObject.toJson = () => {
    const json = serialize();
    const container = json.spec.template.spec.containers.find((c: { name: string }) => c.name === containerName);
    if (container === undefined) {
      throw new Error(`internal error: container ${containerName} not found for the preStop sleep action`);
    }
    container.lifecycle = { ...container.lifecycle, preStop: { sleep: { seconds } } };
    return json;
  };
}
