import { ApiObject, Duration, JsonPatch, Lazy } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { ShutdownBudget, ShutdownBudgetProps } from './budget';
import { BUDGET_ANNOTATION_PREFIX, budgetAnnotations } from './budget-annotations';
import { HealthCheckOptions, resolveHealthCheck, secondsToHealthy } from './health-check';
import { addLifecycleStopSignal } from './lifecycle-stop-signal';
import type { ILoadBalancer, LoadBalancerConfig } from './load-balancer';
import { addNativePreStopSleep, execPreStopLifecycle, PreStopAction } from './prestop';
import {
  validateHost,
  validateHttpPath,
  validateNonEmpty,
  validatePort,
  validatePositiveInteger,
} from './validation';

/**
 * Props for `GracefulWebService`.
 */
export interface GracefulWebServiceProps {
  /**
   * The container image.
   */
  readonly image: string;

  /**
   * The load balancer in front of the service, e.g. `LoadBalancer.alibabaAlb()`.
   */
  readonly loadBalancer: ILoadBalancer;

  /**
   * The port the container listens on; the Service exposes the same port.
   *
   * @default 80
   */
  readonly port?: number;

  /**
   * Number of pods.
   *
   * @default 3
   */
  readonly replicas?: number;

  /**
   * The host name the Ingress routes. Wildcards such as `*.example.com` are allowed.
   *
   * @default - every host
   */
  readonly host?: string;

  /**
   * The URL path the Ingress routes to the service (path type `Prefix`).
   *
   * @default "/"
   */
  readonly path?: string;

  /**
   * The HTTP path of the readiness probe. Kubernetes only routes to a pod once this answers
   * with a 2xx or 3xx status.
   *
   * @default "/"
   */
  readonly healthCheckPath?: string;

  /**
   * Timing of the readiness probe, which the load balancer's health check mirrors.
   *
   * @default - every 5 s, 2 s timeout, healthy after 2 successes, unhealthy after 3 failures
   */
  readonly healthCheck?: HealthCheckOptions;

  /**
   * The shutdown budgets the preStop wait and grace period are derived from.
   *
   * @default - the load balancer's deregistration delay, a 30 s drain, a 5 s margin, and an app that drains on its stop signal
   */
  readonly shutdown?: ShutdownBudgetProps;

  /**
   * Also write `shutdown.stopSignal` into the container's `lifecycle.stopSignal` (with
   * `spec.os.name: linux`, which Kubernetes requires next to it), so the kubelet sends that
   * signal whatever the image's `STOPSIGNAL` says.
   *
   * Kubernetes 1.33 or later, alpha: the API server needs the `ContainerStopSignals` feature
   * gate, and the container runtime must support it. Without the gate the API server drops the
   * field and the image's `STOPSIGNAL` applies, so only turn this on where the gate is on, or
   * declare a `stopSignal` that equals the image's anyway.
   *
   * @default false - the runtime sends the image's STOPSIGNAL; `shutdown.stopSignal` is only recorded
   */
  readonly setLifecycleStopSignal?: boolean;

  /**
   * An explicit `terminationGracePeriodSeconds`. It is checked, never adjusted: it must be at
   * least `deregistrationDelay + drainTimeout`.
   *
   * @default - derived: deregistrationDelay + drainTimeout + safetyMargin
   */
  readonly terminationGracePeriod?: Duration;

  /**
   * How the preStop wait is emitted.
   *
   * @default PreStopAction.EXEC_SLEEP - `/bin/sh -c "sleep N"`; the image needs a shell
   */
  readonly preStopAction?: PreStopAction;

  /**
   * A command to run in the preStop hook before the wait, for example to flush a cache or
   * deregister from a service registry. Its declared `preStopCommandDuration` is added to the
   * grace period; it runs through `/bin/sh`, so it needs `PreStopAction.EXEC_SLEEP`.
   *
   * @default - no command, only the wait
   */
  readonly preStopCommand?: string[];

  /**
   * The longest `preStopCommand` may run. Required with `preStopCommand`. The command is not
   * killed when it overruns, so declare its worst case.
   *
   * @default - no command
   */
  readonly preStopCommandDuration?: Duration;

  /**
   * An explicit `progressDeadlineSeconds`, validated against the longest a rollout step may take.
   *
   * @default - derived: at least 600 s, more when a step can legitimately take longer
   */
  readonly progressDeadline?: Duration;

  /**
   * Emit a PodDisruptionBudget (`maxUnavailable: 1`) for the pods, so node drains evict them one
   * at a time through the same graceful path.
   *
   * @default - true when replicas is 2 or more
   */
  readonly podDisruptionBudget?: boolean;

  /**
   * Environment variables of the container.
   *
   * @default - none
   */
  readonly envVariables?: { [name: string]: kplus.EnvValue };

  /**
   * CPU and memory requests and limits of the container.
   *
   * @default - cdk8s-plus defaults (requests: 1000m CPU, 512Mi memory; limits: 1500m CPU, 2048Mi memory)
   */
  readonly resources?: kplus.ContainerResources;

  /**
   * The container's entrypoint.
   *
   * @default - the image's ENTRYPOINT
   */
  readonly command?: string[];

  /**
   * Arguments to the entrypoint.
   *
   * @default - the image's CMD
   */
  readonly args?: string[];

  /**
   * The container's security context.
   *
   * @default - cdk8s-plus defaults: must run as non-root, read-only root filesystem, no privilege escalation
   */
  readonly containerSecurityContext?: kplus.ContainerSecurityContextProps;

  /**
   * The pod's security context.
   *
   * @default - cdk8s-plus defaults: must run as non-root
   */
  readonly podSecurityContext?: kplus.PodSecurityContextProps;

  /**
   * Directories the container may write to even with a read-only root filesystem. Each one is
   * mounted from its own `emptyDir` volume (for example `/tmp` or `/var/cache/nginx`).
   *
   * @default - none
   */
  readonly writablePaths?: string[];

  /**
   * Labels added to every object and to the pods.
   *
   * @default - none
   */
  readonly labels?: { [key: string]: string };

  /**
   * Annotations added to the pods.
   *
   * @default - none
   */
  readonly podAnnotations?: { [key: string]: string };

  /**
   * Annotations added to the Ingress, next to the ones the load balancer needs. An annotation
   * that contradicts the load balancer's is an error.
   *
   * @default - none
   */
  readonly ingressAnnotations?: { [key: string]: string };

  /**
   * Annotations added to the Service, next to the ones the load balancer needs.
   *
   * @default - none
   */
  readonly serviceAnnotations?: { [key: string]: string };

  /**
   * How many pods above `replicas` a rolling update may create. `maxUnavailable` is always 0,
   * so capacity never drops; this must therefore be more than 0.
   *
   * @default PercentOrAbsolute.percent(25) - the Kubernetes default, at least one pod
   */
  readonly maxSurge?: kplus.PercentOrAbsolute;
}

/**
 * A web service behind a cloud load balancer that rolls without dropping requests.
 *
 * Emits a Deployment, a Service and an Ingress. The preStop wait and
 * `terminationGracePeriodSeconds` are derived from the declared shutdown budgets
 * (see `ShutdownBudget`), and configurations that would drop requests are refused.
 */
export class GracefulWebService extends Construct {
  /**
   * Prefix of the annotations that record the budget's inputs on the Deployment
   * (`<prefix>/deregistration-delay-seconds`, `drain-timeout-seconds`, `safety-margin-seconds`,
   * `drains-on-stop-signal`), so the YAML explains its own numbers and tools can read them.
   */
  public static readonly BUDGET_ANNOTATION_PREFIX = BUDGET_ANNOTATION_PREFIX;

  /** The Deployment. */
  public readonly deployment: kplus.Deployment;
  /** The service's container. */
  public readonly container: kplus.Container;
  /** The Service in front of the pods. */
  public readonly service: kplus.Service;
  /** The Ingress the load balancer serves. */
  public readonly ingress: kplus.Ingress;
  /**
   * The PodDisruptionBudget (policy/v1), when one is emitted.
   */
  public readonly podDisruptionBudget?: ApiObject;
  /** The derived shutdown budget. */
  public readonly budget: ShutdownBudget;
  /** The load balancer. */
  public readonly loadBalancer: ILoadBalancer;
  /** The port the container listens on and the Service exposes. */
  public readonly port: number;

  public constructor(scope: Construct, id: string, props: GracefulWebServiceProps) {
    super(scope, id);

    // Validate everything before creating any object, so a bad input leaves nothing behind.
    validateNonEmpty('image', props.image);
    this.port = props.port ?? 80;
    validatePort('port', this.port);
    const replicas = props.replicas ?? 3;
    validatePositiveInteger('replicas', replicas);
    if (props.host !== undefined) validateHost('host', props.host);
    const path = props.path ?? '/';
    validateHttpPath('path', path);
    const healthCheck = resolveHealthCheck(props.healthCheckPath ?? '/', this.port, props.healthCheck);
    const maxSurge = props.maxSurge ?? kplus.PercentOrAbsolute.percent(25);
    if (maxSurge.isZero()) {
      throw new Error('maxSurge must be more than 0: maxUnavailable is 0, so a rolling update needs room for at least one extra pod');
    }
    for (const [i, writable] of (props.writablePaths ?? []).entries()) {
      validateHttpPath(`writablePaths[${i}]`, writable);
    }
    const preStopAction = props.preStopAction ?? PreStopAction.EXEC_SLEEP;
    validatePreStopCommand(props, preStopAction);

    this.loadBalancer = props.loadBalancer;
    const launch = props.loadBalancer.launch(healthCheck);
    this.budget = ShutdownBudget.derive({
      ...props.shutdown,
      defaultDeregistrationDelay: props.loadBalancer.defaultDeregistrationDelay,
      terminationGracePeriod: props.terminationGracePeriod,
      preStopCommandDuration: props.preStopCommandDuration,
      readinessDelay: Duration.seconds(secondsToHealthy(healthCheck)),
      registrationDelay: launch.registrationDelay,
      launchGated: launch.gated,
      progressDeadline: props.progressDeadline,
    });
    if (preStopAction === PreStopAction.SLEEP_ACTION
      && this.budget.preStopSleepSeconds > this.budget.terminationGracePeriodSeconds) {
      throw new Error(
        `the preStop sleep action (${this.budget.preStopSleepSeconds}s) must not exceed terminationGracePeriod `
        + `(${this.budget.terminationGracePeriodSeconds}s): Kubernetes rejects it`,
      );
    }

    try {
      // A provider may add objects under this construct; if anything below fails, remove them
      // again so the chart holds nothing of a service that was refused.
      const lb = props.loadBalancer.bind(this, {
        budget: this.budget, port: this.port, healthCheck, host: props.host, path,
      });
      const ingressAnnotations = mergeAnnotations('ingressAnnotations', lb.ingressAnnotations, props.ingressAnnotations);
      const serviceAnnotations = mergeAnnotations('serviceAnnotations', lb.serviceAnnotations, props.serviceAnnotations);
      checkIngressClass(lb, ingressAnnotations);

      const labels = props.labels ?? {};
      this.deployment = new kplus.Deployment(this, 'Deployment', {
        metadata: { labels, annotations: budgetAnnotations(this.budget) },
        podMetadata: { labels, annotations: props.podAnnotations },
        replicas,
        strategy: kplus.DeploymentStrategy.rollingUpdate({
          maxSurge,
          maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
        }),
        minReady: Duration.seconds(this.budget.minReadySeconds),
        progressDeadline: Duration.seconds(this.budget.progressDeadlineSeconds),
        terminationGracePeriod: this.budget.terminationGracePeriod,
        securityContext: props.podSecurityContext,
      });

      this.container = this.deployment.addContainer({
        name: CONTAINER_NAME,
        image: props.image,
        portNumber: this.port,
        command: props.command,
        args: props.args,
        envVariables: props.envVariables,
        resources: props.resources,
        securityContext: props.containerSecurityContext,
        readiness: kplus.Probe.fromHttpGet(healthCheck.path, {
          port: this.port,
          periodSeconds: Duration.seconds(healthCheck.intervalSeconds),
          timeoutSeconds: Duration.seconds(healthCheck.timeoutSeconds),
          successThreshold: healthCheck.healthyThreshold,
          failureThreshold: healthCheck.unhealthyThreshold,
        }),
        lifecycle: preStopAction === PreStopAction.EXEC_SLEEP
          ? execPreStopLifecycle(this.budget, props.preStopCommand)
          : undefined,
      });
      if (preStopAction === PreStopAction.SLEEP_ACTION && this.budget.preStopSleepSeconds > 0) {
        addNativePreStopSleep(this.deployment, CONTAINER_NAME, this.budget.preStopSleepSeconds);
      }
      if (props.setLifecycleStopSignal) {
        if (this.budget.stopSignal === undefined) {
          throw new Error(`${this.node.path}: setLifecycleStopSignal needs shutdown.stopSignal, the signal to write into lifecycle.stopSignal`);
        }
        addLifecycleStopSignal(this.deployment, CONTAINER_NAME, this.budget.stopSignal);
      }
      for (const [i, writable] of (props.writablePaths ?? []).entries()) {
        this.container.mount(writable, kplus.Volume.fromEmptyDir(this, `Writable${i}`, `writable-${i}`));
      }
      const gates = launch.readinessGates ?? [];
      if (gates.length > 0) {
        // Kubernetes 1.27 knows readinessGates, so this patch survives cdk8s-plus's serialization.
        ApiObject.of(this.deployment).addJsonPatch(JsonPatch.add(
          '/spec/template/spec/readinessGates', gates.map((conditionType) => ({ conditionType }))));
      }

      this.service = new kplus.Service(this, 'Service', {
        metadata: { labels, annotations: serviceAnnotations },
        type: lb.serviceType,
        selector: this.deployment,
        ports: [{ name: 'http', port: this.port, targetPort: this.port }],
      });

      this.ingress = new kplus.Ingress(this, 'Ingress', {
        metadata: { labels, annotations: ingressAnnotations },
        className: lb.ingressClassName,
      });
      const backend = kplus.IngressBackend.fromService(this.service, { port: this.port });
      if (props.host !== undefined) {
        this.ingress.addHostRule(props.host, path, backend, kplus.HttpIngressPathType.PREFIX);
      } else {
        this.ingress.addRule(path, backend, kplus.HttpIngressPathType.PREFIX);
      }

      if (props.podDisruptionBudget ?? replicas >= 2) {
        const deployment = this.deployment;
        this.podDisruptionBudget = new ApiObject(this, 'PodDisruptionBudget', {
          apiVersion: 'policy/v1',
          kind: 'PodDisruptionBudget',
          metadata: { labels },
          spec: {
            maxUnavailable: 1,
            // Lazy: selectors added later through the escape hatch are picked up too.
            selector: { matchLabels: Lazy.any({ produce: () => deployment.matchLabels }) },
          },
        });
      }
    } catch (error) {
      for (const child of [...this.node.children]) {
        this.node.tryRemoveChild(child.node.id);
      }
      throw error;
    }
  }
}

/** The name of the service's container in the pod template. */
const CONTAINER_NAME = 'web';

/** A custom preStop command needs a declared duration and the exec flavour. */
function validatePreStopCommand(props: GracefulWebServiceProps, action: PreStopAction): void {
  if (props.preStopCommand === undefined) {
    if (props.preStopCommandDuration !== undefined) {
      throw new Error('preStopCommandDuration is set but preStopCommand is not: declare the command it times');
    }
    return;
  }
  if (props.preStopCommand.length === 0 || props.preStopCommand[0].trim() === '') {
    throw new Error('preStopCommand must not be empty');
  }
  if (props.preStopCommandDuration === undefined) {
    throw new Error('preStopCommandDuration is required with preStopCommand: the grace period must include its worst case');
  }
  if (action === PreStopAction.SLEEP_ACTION) {
    throw new Error(
      'preStopCommand cannot be combined with preStopAction SLEEP_ACTION: a lifecycle handler has exactly one '
      + 'action, so the command and the wait run together through /bin/sh (PreStopAction.EXEC_SLEEP)',
    );
  }
}

/**
 * The provider's annotations plus the user's. A user value that contradicts the provider's is
 * an error rather than a silent override either way.
 */
function mergeAnnotations(
  prop: string,
  required: { [key: string]: string } | undefined,
  extra: { [key: string]: string } | undefined,
): { [key: string]: string } {
  const merged: { [key: string]: string } = { ...required };
  for (const [key, value] of Object.entries(extra ?? {})) {
    if (key in merged && merged[key] !== value) {
      throw new Error(`${prop}["${key}"] is "${value}", but the load balancer needs "${merged[key]}"`);
    }
    merged[key] = value;
  }
  return merged;
}

/** Kubernetes rejects an Ingress that sets both the class annotation and `spec.ingressClassName`. */
function checkIngressClass(lb: LoadBalancerConfig, annotations: { [key: string]: string }): void {
  const annotation = 'kubernetes.io/ingress.class';
  if (lb.ingressClassName !== undefined && annotation in annotations) {
    throw new Error(
      `ingressAnnotations["${annotation}"] cannot be set together with spec.ingressClassName `
      + `("${lb.ingressClassName}"): Kubernetes rejects an Ingress that sets both`,
    );
  }
}
