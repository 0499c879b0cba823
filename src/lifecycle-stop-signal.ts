import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { StopSignal } from './stop-signal';

/**
 * Writes `lifecycle.stopSignal` on one container of a Deployment, and `spec.os.name: linux`,
 * which Kubernetes requires next to it.
 *
 * cdk8s-plus-27 serializes through the Kubernetes 1.27 schema after JSON patches, and that schema
 * has no `stopSignal`, so a patch would be dropped: the field is added to the final JSON instead
 * (as for the native preStop sleep).
 *
 * @internal
 */
export function addLifecycleStopSignal(deployment: kplus.Deployment, containerName: string, signal: StopSignal): void {
  const apiObject = ApiObject.of(deployment);
  const serialize = apiObject.toJson.bind(apiObject);
  apiObject.toJson = () => {
    const json = serialize();
    const podSpec = json.spec.template.spec;
    const container = podSpec.containers.find((c: { name: string }) => c.name === containerName);
    if (container === undefined) {
      throw new Error(`internal error: container ${containerName} not found for lifecycle.stopSignal`);
    }
    container.lifecycle = { ...container.lifecycle, stopSignal: signal.name };
    podSpec.os = { ...podSpec.os, name: 'linux' };
    return json;
  };
}
