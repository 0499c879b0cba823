import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { ShutdownBudget, ShutdownBudgetProps } from './budget';
import type { ILoadBalancer, LoadBalancerConfig } from './load-balancer';
import {
  validateHost,
  validateHttpPath,
  validateNonEmpty,
  validatePort,
  validatePositiveInteger,
} from './validation';

const BUDGET_ANNOTATION_PREFIX = 'graceful-web-service.cdk8s.io';

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
   * The shutdown budgets the preStop wait and grace period are derived from.
   *
   * @default - the load balancer's deregistration delay, a 30 s drain, a 5 s margin, and an app that drains on SIGTERM
   */
  readonly shutdown?: ShutdownBudgetProps;

  /**
   * An explicit `terminationGracePeriodSeconds`. It is checked, never adjusted: it must be at
   * least `deregistrationDelay + drainTimeout`.
   *
   * @default - derived: deregistrationDelay + drainTimeout + safetyMargin
   */
  readonly terminationGracePeriod?: Duration;

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
   * `drains-on-sigterm`), so the YAML explains its own numbers and tools can read them.
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
    const healthCheckPath = props.healthCheckPath ?? '/';
    validateHttpPath('healthCheckPath', healthCheckPath);
    const maxSurge = props.maxSurge ?? kplus.PercentOrAbsolute.percent(25);
    if (maxSurge.isZero()) {
      throw new Error('maxSurge must be more than 0: maxUnavailable is 0, so a rolling update needs room for at least one extra pod');
    }
    for (const [i, writable] of (props.writablePaths ?? []).entries()) {
      validateHttpPath(`writablePaths[${i}]`, writable);
    }

    this.loadBalancer = props.loadBalancer;
    this.budget = ShutdownBudget.derive({
      ...props.shutdown,
      defaultDeregistrationDelay: props.loadBalancer.defaultDeregistrationDelay,
      terminationGracePeriod: props.terminationGracePeriod,
    });
    const lb = props.loadBalancer.bind({ budget: this.budget, port: this.port, healthCheckPath });
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
      terminationGracePeriod: this.budget.terminationGracePeriod,
      securityContext: props.podSecurityContext,
    });

    this.container = this.deployment.addContainer({
      name: 'web',
      image: props.image,
      portNumber: this.port,
      command: props.command,
      args: props.args,
      envVariables: props.envVariables,
      resources: props.resources,
      securityContext: props.containerSecurityContext,
      readiness: kplus.Probe.fromHttpGet(healthCheckPath, { port: this.port }),
      lifecycle: preStopLifecycle(this.budget),
    });
    for (const [i, writable] of (props.writablePaths ?? []).entries()) {
      this.container.mount(writable, kplus.Volume.fromEmptyDir(this, `Writable${i}`, `writable-${i}`));
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
  }
}

/**
 * The container lifecycle for a budget: a shell sleep before SIGTERM, or no lifecycle at all
 * when no wait is needed (an empty `lifecycle: {}` would still be emitted otherwise).
 */
function preStopLifecycle(budget: ShutdownBudget): kplus.ContainerLifecycle | undefined {
  if (budget.preStopSleepSeconds === 0) {
    return undefined;
  }
  return { preStop: kplus.Handler.fromCommand(['/bin/sh', '-c', `sleep ${budget.preStopSleepSeconds}`]) };
}

/** The budget's inputs and outputs, recorded on the Deployment so the YAML explains itself. */
function budgetAnnotations(budget: ShutdownBudget): { [key: string]: string } {
  return {
    [`${BUDGET_ANNOTATION_PREFIX}/deregistration-delay-seconds`]: String(budget.deregistrationDelaySeconds),
    [`${BUDGET_ANNOTATION_PREFIX}/drain-timeout-seconds`]: String(budget.drainTimeoutSeconds),
    [`${BUDGET_ANNOTATION_PREFIX}/safety-margin-seconds`]: String(budget.safetyMarginSeconds),
    [`${BUDGET_ANNOTATION_PREFIX}/drains-on-sigterm`]: String(budget.drainsOnSigterm),
  };
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
