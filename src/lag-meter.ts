import * as fs from 'node:fs';
import * as path from 'node:path';
import { ApiObject, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { deriveShutdownBudget, ShutdownBudgetProps } from './budget';
import { GracefulWebService } from './graceful-web-service';
import { HealthCheckOptions, resolveHealthCheck } from './health-check';
import type { ILoadBalancer } from './load-balancer';
import { checkPropTypes } from './prop-types';
import { validateHttpPath, validateNonEmpty, wholeSeconds } from './validation';

/**
 * The meter's server: one dependency-free JavaScript file, mounted verbatim from a ConfigMap.
 * It ships in the npm package under assets/ (next to lib/ and src/, so both find it).
 *
 * @internal
 */
export const METER_SERVER_FILE = path.join(__dirname, '..', 'assets', 'lag-meter', 'meter-server.js');

/**
 * The response headers of the meter (lower case, as Node.js reports them).
 *
 * @internal
 */
export const METER_HEADERS = {
  /** The pod's name. */
  pod: 'x-lag-meter-pod',
  /** Milliseconds since `/prestop` was first called; present only while the pod is terminating. */
  sincePrestopMs: 'x-lag-meter-since-prestop-ms',
  /** Milliseconds since the readiness probe first passed; absent before that. */
  sinceReadyMs: 'x-lag-meter-since-ready-ms',
  /** The preStop wait the meter holds the hook for, in milliseconds. */
  waitMs: 'x-lag-meter-wait-ms',
} as const;

/**
 * Props for `LagMeter`.
 */
export interface LagMeterProps {
  /**
   * The load balancer to measure, configured as for the real service (e.g. `LoadBalancer.awsAlb()`).
   */
  readonly loadBalancer: ILoadBalancer;

  /**
   * The name of every object the meter emits (see `GracefulWebServiceProps.name`).
   *
   * @default "lag-meter"
   */
  readonly name?: string;

  /**
   * The host name the Ingress routes to the meter.
   *
   * @default - every host
   */
  readonly host?: string;

  /**
   * The URL path the Ingress routes to the meter.
   *
   * @default "/"
   */
  readonly path?: string;

  /**
   * How long the meter holds its preStop hook: the longest deregistration delay it can measure.
   * A pod still receiving requests when its wait ends shows a delay of "at least the wait". It
   * must be at least the preStop wait a real service with the same `shutdown` gets.
   *
   * @default Duration.seconds(180)
   */
  readonly wait?: Duration;

  /**
   * Number of meter pods. Every restart of the meter ends this many pods, each one measurement.
   *
   * @default 2
   */
  readonly replicas?: number;

  /**
   * The image the meter runs in: any image with `node` (18 or later) on its PATH and a `node`
   * user (UID 1000), such as the official Node.js images or a mirror of them.
   *
   * @default "node:26-alpine"
   */
  readonly image?: string;

  /**
   * The port the meter listens on.
   *
   * @default 8080
   */
  readonly port?: number;

  /**
   * The readiness probe's path on the meter.
   *
   * @default "/ready"
   */
  readonly healthCheckPath?: string;

  /**
   * The readiness probe's timing, as the real service's (the load balancer's health check
   * mirrors it, so the measured registration delay is the real service's).
   *
   * @default - the GracefulWebService default
   */
  readonly healthCheck?: HealthCheckOptions;

  /**
   * The real service's shutdown budgets, so the load balancer gets exactly the draining settings
   * (annotations, policies) the real service gets. They do not change the meter's wait.
   *
   * @default - the GracefulWebService defaults for the load balancer
   */
  readonly shutdown?: ShutdownBudgetProps;

  /**
   * Annotations added to the Ingress, as on the real service (TLS, scheme, ...).
   *
   * @default - none
   */
  readonly ingressAnnotations?: { [key: string]: string };

  /**
   * Annotations added to the Service, as on the real service.
   *
   * @default - none
   */
  readonly serviceAnnotations?: { [key: string]: string };
}

/**
 * A lag meter: a tiny HTTP server behind the load balancer, with exactly the Service, Ingress and
 * annotations a `GracefulWebService` gets, that reports on every response how long ago its pod's
 * preStop hook was called and how long ago it turned ready. `cdk8s-graceful-web-service measure`
 * sends load through it while the meter is restarted, and reads from those headers when the load
 * balancer really stopped and started sending requests to each pod.
 *
 * The server is one file in a ConfigMap, run by a stock Node.js image, so there is nothing to
 * build. Its preStop hook is an `httpGet` to its own `/prestop`, which it holds open for `wait`.
 */
export class LagMeter extends Construct {
  /** The default `wait`. */
  public static readonly DEFAULT_WAIT = Duration.seconds(180);

  /**
   * The default `image`: the official Node.js image (Docker Hub), Alpine variant (small,
   * multi-architecture), of the Active LTS line (Node.js 26, end of life 2029-04-30 per the
   * nodejs/Release schedule).
   */
  public static readonly DEFAULT_IMAGE = 'node:26-alpine';

  /** The path of the preStop hook on the meter. */
  public static readonly PRESTOP_PATH = '/prestop';

  /** The service the meter runs as. */
  public readonly service: GracefulWebService;
  /** The ConfigMap holding the meter's server. */
  public readonly configMap: kplus.ConfigMap;
  /** How long the meter holds its preStop hook, in seconds. */
  public readonly waitSeconds: number;

  public constructor(scope: Construct, id: string, props: LagMeterProps) {
    super(scope, id);
    const v = withPath(this, () => validateLagMeterProps(props));
    const { name, port, readinessPath, wait, real } = v;
    this.waitSeconds = wait;

    this.configMap = new kplus.ConfigMap(this, 'Server', {
      metadata: { name: `${name}-server` },
      data: { 'meter-server.js': fs.readFileSync(METER_SERVER_FILE, 'utf8') },
    });
    this.service = new GracefulWebService(this, 'Meter', {
      name,
      image: v.image,
      loadBalancer: props.loadBalancer,
      port,
      replicas: props.replicas ?? 2,
      host: props.host,
      path: props.path,
      healthCheckPath: readinessPath,
      healthCheck: props.healthCheck,
      shutdown: props.shutdown,
      ingressAnnotations: props.ingressAnnotations,
      serviceAnnotations: props.serviceAnnotations,
      command: ['node', '/lag-meter/meter-server.js'],
      envVariables: {
        METER_PORT: kplus.EnvValue.fromValue(String(port)),
        METER_WAIT_SECONDS: kplus.EnvValue.fromValue(String(wait)),
        METER_READINESS_PATH: kplus.EnvValue.fromValue(readinessPath),
        METER_READY_AFTER: kplus.EnvValue.fromValue(String(v.readyAfter)),
        METER_POD_NAME: kplus.EnvValue.fromFieldRef(kplus.EnvFieldPaths.POD_NAME),
      },
      // The official Node.js images run as root unless told; their `node` user is UID 1000.
      containerSecurityContext: { user: 1000, group: 1000 },
      resources: {
        cpu: { request: kplus.Cpu.millis(50), limit: kplus.Cpu.millis(500) },
        memory: { request: Size.mebibytes(64), limit: Size.mebibytes(128) },
      },
    });
    this.service.container.mount('/lag-meter', kplus.Volume.fromConfigMap(this, 'ServerVolume', this.configMap), { readOnly: true });
    // The preStop hook: an httpGet to the meter itself, which needs nothing in the image. Written
    // into the final JSON: cdk8s-plus serializes patches through its schema, which drops a plain
    // number where it expects an IntOrString (as for the native sleep action, src/prestop.ts).
    // The grace period outlasts the hook's wait as a real service's outlasts its preStop wait (drain
    // timeout + margin), so the kubelet never abandons it and `check` finds it consistent. Only the
    // pod gets it: the load balancer's draining settings (derived from the real service's grace
    // period) stay exactly the real service's.
    const grace = Math.max(real.terminationGracePeriodSeconds, wait + real.drainTimeoutSeconds + real.safetyMarginSeconds);
    const deployment = ApiObject.of(this.service.deployment);
    const serialize = deployment.toJson.bind(deployment);
    deployment.toJson = () => {
      const json = serialize();
      json.spec.template.spec.containers[0].lifecycle = { preStop: { httpGet: { path: LagMeter.PRESTOP_PATH, port } } };
      json.spec.template.spec.terminationGracePeriodSeconds = grace;
      return json;
    };
  }
}

/** Props after validation, with defaults applied; `real` is the real service's budget. */
function validateLagMeterProps(props: LagMeterProps) {
  checkPropTypes('LagMeterProps', props);
  const port = props.port ?? 8080;
  const readinessPath = props.healthCheckPath ?? '/ready';
  const image = props.image ?? LagMeter.DEFAULT_IMAGE;
  validateNonEmpty('image', image);
  validateHttpPath('healthCheckPath', readinessPath);
  if (readinessPath === LagMeter.PRESTOP_PATH) throw new Error(`healthCheckPath must not be ${LagMeter.PRESTOP_PATH}, the meter's preStop hook`);
  const wait = wholeSeconds('wait', props.wait, LagMeter.DEFAULT_WAIT.toSeconds());
  // The real service's budget: its wait is the least the meter must hold, its grace the least it may have.
  const real = deriveShutdownBudget({ ...props.shutdown, defaultDeregistrationDelay: props.loadBalancer.defaultDeregistrationDelay });
  if (wait < real.preStopSleepSeconds) {
    throw new Error(
      `wait is ${wait} s, shorter than the preStop wait a real service with these budgets gets `
      + `(${real.preStopSleepSeconds} s): the meter would stop answering before the load balancer is expected to stop; raise wait`,
    );
  }
  // The kubelet's probes on the readiness path until Ready: the startup probe's one success (the
  // construct always has one), then the readiness probe's successThreshold in a row.
  const readyAfter = 1 + resolveHealthCheck(readinessPath, port, props.healthCheck).healthyThreshold;
  return { name: props.name ?? 'lag-meter', port, readinessPath, image, wait, real, readyAfter };
}

/** `f()`, its error prefixed with the construct's path. */
function withPath<T>(scope: Construct, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new Error(`${scope.node.path}: ${(e as Error).message}`, { cause: e });
  }
}
