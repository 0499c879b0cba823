import * as posixPath from 'node:path/posix';
import { ApiObject, Chart, Duration, JsonPatch, Lazy } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { checkNamesAppWide } from './app-names';
import { deriveShutdownBudget, ShutdownBudget, ShutdownBudgetProps } from './budget';
import { BUDGET_ANNOTATION_PREFIX, budgetAnnotations } from './budget-annotations';
import { buildGatewayRoute, GatewayBinding, GatewayOptions, gatewayProvider, validateGatewayOptions } from './gateway';
import { HealthCheckOptions, HealthCheckSettings, resolveHealthCheck, secondsToHealthy } from './health-check';
import { addLifecycleStopSignal } from './lifecycle-stop-signal';
import type { ILoadBalancer, LoadBalancerConfig, LoadBalancerLaunch } from './load-balancer';
import { addNativePreStopSleep, execPreStopLifecycle, PreStopAction } from './prestop';
import { checkPropTypes } from './prop-types';
import {
  validateAnnotations,
  validateHost,
  validateHttpPath,
  validateLabels,
  validateNonEmpty,
  validateObjectName,
  validatePort,
  validatePositiveInteger,
  wholeSeconds,
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
   * The name of every object the service emits (Deployment, Service, Ingress,
   * PodDisruptionBudget and any provider object), exactly as given, with no hash. The pods and
   * every object also get the labels `app.kubernetes.io/name` and `app.kubernetes.io/instance`
   * set to it, and the Deployment, Service and PodDisruptionBudget select on those two labels
   * only, so moving the construct to another scope (a refactor) changes neither names nor
   * selectors (only cdk8s-plus's `cdk8s.io/metadata.addr` pod label, which rolls the pods once).
   * Two services with the same name in one chart are an error.
   *
   * Must be an RFC 1035 label: 1-63 lower-case letters, digits or `-`, starting with a letter.
   *
   * @default - names generated from the construct path (with a hash), and selectors on the
   * `cdk8s.io/metadata.addr` label, which is also derived from the construct path: moving the
   * construct then changes the Deployment's selector, which Kubernetes refuses to update
   */
  readonly name?: string;

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
   * Attach an HTTPRoute (Gateway API) to this Gateway instead of emitting an Ingress. `host`,
   * `path`, the budgets and the load balancer mean the same; the load balancer's draining and
   * health check go into its Gateway API policies (AWS: a `TargetGroupConfiguration`; GKE: a
   * `GCPBackendPolicy` and a `HealthCheckPolicy`). Alibaba Cloud ALB and Tencent Cloud CLB are
   * refused. See docs/gateway-api.md.
   *
   * @default - an Ingress
   */
  readonly gateway?: GatewayOptions;

  /**
   * The host name the Ingress (or HTTPRoute) routes. Wildcards such as `*.example.com` are allowed.
   *
   * @default - every host
   */
  readonly host?: string;

  /**
   * The URL path the Ingress (or HTTPRoute) routes to the service (path type `Prefix`, or
   * `PathPrefix` on an HTTPRoute).
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
   * The longest the application may take from container start until it answers its health
   * check (`healthCheckPath`). A startup probe on that path gives it this long before the
   * kubelet restarts the container; the readiness probe starts once it has passed. Slow
   * starters (JVM apps, large caches) need more. It is part of the launch timeline and of the
   * derived `progressDeadlineSeconds`. Rounded up to whole probe intervals.
   *
   * @default Duration.seconds(60)
   */
  readonly startupTimeout?: Duration;

  /**
   * Whether the container has a startup probe. Turn it off for an app whose readiness probe
   * alone should decide (the container is then never restarted for starting slowly); cdk8s-plus's
   * own default startup probe (TCP, 3 × 10 s) is not emitted either.
   *
   * @default true
   */
  readonly startupProbe?: boolean;

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
   * least `preStopCommandDuration + deregistrationDelay + safetyMargin + drainTimeout`.
   *
   * @default - derived: preStopCommandDuration + deregistrationDelay + safetyMargin + drainTimeout + safetyMargin
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
   * Each element is one argument, and the first is the program: write
   * `['nginx', '-s', 'quit']`, or `['/bin/sh', '-c', 'nginx -s quit']` for a shell command line.
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
   * Allow the container to run as root (UID 0). Images such as the stock nginx images start
   * their master process as root; they need this. It lifts `runAsNonRoot` on the pod and on the
   * container together (cdk8s-plus sets it on both, and both must agree for a root image to
   * start). Prefer a non-root image where one exists (for nginx: `nginxinc/nginx-unprivileged`).
   *
   * @default false - the pod and the container must run as non-root
   */
  readonly runAsRoot?: boolean;

  /**
   * Whether the container's root filesystem is read-only. Keep it, and list the directories the
   * app writes to in `writablePaths`; turn it off only for images that write all over their
   * filesystem.
   *
   * @default true
   */
  readonly readOnlyRootFilesystem?: boolean;

  /**
   * Further settings of the container's security context (user, group, privileges). Use
   * `runAsRoot` and `readOnlyRootFilesystem` for those two; a contradicting `ensureNonRoot` or
   * `readOnlyRootFilesystem` here is an error.
   *
   * @default - cdk8s-plus defaults: no privilege escalation, not privileged
   */
  readonly containerSecurityContext?: kplus.ContainerSecurityContextProps;

  /**
   * Further settings of the pod's security context (user, group, fsGroup, sysctls). Use
   * `runAsRoot` for the non-root requirement; a contradicting `ensureNonRoot` here is an error.
   *
   * @default - cdk8s-plus defaults
   */
  readonly podSecurityContext?: kplus.PodSecurityContextProps;

  /**
   * Directories the container may write to even with a read-only root filesystem. Each one is
   * mounted from its own `emptyDir` volume (for example `/tmp` or `/var/cache/nginx`); each
   * path may appear once.
   *
   * @default - none
   */
  readonly writablePaths?: string[];

  /**
   * Labels added to every object and to the pods. Keys and values follow Kubernetes' rules.
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
 * Emits a Deployment, a Service and an Ingress (or, with `gateway`, a Gateway API HTTPRoute and the
 * provider's policies). The preStop wait and
 * `terminationGracePeriodSeconds` are derived from the declared shutdown budgets
 * (see `ShutdownBudget`), and configurations that would drop requests are refused.
 * Every error starts with the construct's path (`<chart>/<id>: `).
 */
export class GracefulWebService extends Construct {
  /**
   * Prefix of the annotations that record the budget's inputs on the Deployment
   * (`<prefix>/deregistration-delay-seconds`, `drain-timeout-seconds`, `safety-margin-seconds`,
   * `drains-on-stop-signal`), so the YAML explains its own numbers and tools can read them.
   */
  public static readonly BUDGET_ANNOTATION_PREFIX = BUDGET_ANNOTATION_PREFIX;

  /** The label that carries `name` on every object and pod (`app.kubernetes.io/name`). */
  public static readonly NAME_LABEL = 'app.kubernetes.io/name';

  /** The label that carries `name` as the instance (`app.kubernetes.io/instance`). */
  public static readonly INSTANCE_LABEL = 'app.kubernetes.io/instance';

  /** The default `startupTimeout`. */
  public static readonly DEFAULT_STARTUP_TIMEOUT = Duration.seconds(60);

  /** The Deployment. */
  public readonly deployment: kplus.Deployment;
  /** The service's container. */
  public readonly container: kplus.Container;
  /** The Service in front of the pods. */
  public readonly service: kplus.Service;
  /** The Ingress the load balancer serves; none with `gateway`. */
  public readonly ingress?: kplus.Ingress;
  /** The HTTPRoute (`gateway.networking.k8s.io/v1`), with `gateway`. */
  public readonly httpRoute?: ApiObject;
  /** The Gateway, when `gateway.create` asked the construct to emit it. */
  public readonly gateway?: ApiObject;
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
  /**
   * The name every emitted object carries, when `name` was given.
   */
  public readonly name?: string;

  public constructor(scope: Construct, id: string, props: GracefulWebServiceProps) {
    super(scope, id);
    try {
      // Validate everything before creating any object, so a bad input leaves nothing behind.
      const v = validateProps(props);
      this.port = v.port;
      this.name = props.name;
      this.loadBalancer = props.loadBalancer;
      const launch = props.gateway !== undefined
        ? gatewayProvider(props.loadBalancer)._gatewayLaunch(v.healthCheck)
        : props.loadBalancer.launch(v.healthCheck);
      this.budget = deriveBudget(props, v, launch);
      if (props.name !== undefined) {
        claimName(this, props.name);
      }
      checkNamesAppWide(this); // the same kind, namespace and name across charts, at synth
      // A provider may add objects under this construct; if anything below fails, the catch
      // removes them again so the chart holds nothing of a service that was refused.
      const lb = props.gateway !== undefined
        ? bindGateway(this, props, v, this.budget, props.gateway)
        : bindLoadBalancer(this, props, v, this.budget);
      const step: BuildStep = { scope: this, props, v, budget: this.budget };
      this.deployment = buildDeployment(step);
      this.container = addWebContainer(step, this.deployment, launch);
      this.service = buildService(step, this.deployment, lb);
      if (lb.gateway !== undefined) {
        const route = buildHttpRoute(step, this.service, lb.gateway);
        this.httpRoute = route.route;
        this.gateway = route.gateway;
      } else {
        this.ingress = buildIngress(step, this.service, lb);
      }
      this.podDisruptionBudget = buildPodDisruptionBudget(step, this.deployment);
    } catch (error) {
      for (const child of [...this.node.children]) {
        this.node.tryRemoveChild(child.node.id);
      }
      releaseName(this);
      throw withPath(this, error);
    }
  }
}

/** What every build step needs: the construct, its props as given and as validated, the budget. */
interface BuildStep {
  readonly scope: GracefulWebService;
  readonly props: GracefulWebServiceProps;
  readonly v: ValidatedProps;
  readonly budget: ShutdownBudget;
}

/** The load balancer's objects and annotations, merged with the user's and checked. */
interface BoundLoadBalancer {
  readonly config: LoadBalancerConfig;
  readonly ingressAnnotations: { [key: string]: string };
  readonly serviceAnnotations: { [key: string]: string };
  /** With `gateway`: the provider's Gateway API part. */
  readonly gateway?: GatewayBinding;
}

/** Step 2: the shutdown and launch budget from the declared budgets and the provider's facts. */
function deriveBudget(props: GracefulWebServiceProps, v: ValidatedProps, launch: LoadBalancerLaunch): ShutdownBudget {
  const budget = deriveShutdownBudget({
    ...props.shutdown,
    defaultDeregistrationDelay: props.loadBalancer.defaultDeregistrationDelay,
    terminationGracePeriod: props.terminationGracePeriod,
    preStopCommandDuration: props.preStopCommandDuration,
    startupDelay: Duration.seconds(v.startup ? v.startup.periodSeconds * v.startup.failureThreshold : 0),
    readinessDelay: Duration.seconds(secondsToHealthy(v.healthCheck)),
    registrationDelay: launch.registrationDelay,
    launchGated: launch.gated,
    progressDeadline: props.progressDeadline,
  });
  if (v.preStopAction === PreStopAction.SLEEP_ACTION
    && budget.preStopSleepSeconds > budget.terminationGracePeriodSeconds) {
    throw new Error(
      `the preStop sleep action (${budget.preStopSleepSeconds}s) must not exceed terminationGracePeriod `
      + `(${budget.terminationGracePeriodSeconds}s): Kubernetes rejects it`,
    );
  }
  return budget;
}

/** Step 3: the provider's settings for this service, with the user's annotations merged and checked. */
function bindLoadBalancer(
  scope: GracefulWebService, props: GracefulWebServiceProps, v: ValidatedProps, budget: ShutdownBudget,
): BoundLoadBalancer {
  const config = props.loadBalancer.bind(scope, {
    budget,
    port: v.port,
    healthCheck: v.healthCheck,
    host: props.host,
    path: v.path,
    name: props.name,
    labels: v.labels,
  });
  validateAnnotations('the load balancer\'s ingress annotations', config.ingressAnnotations);
  validateAnnotations('the load balancer\'s service annotations', config.serviceAnnotations);
  const ingressAnnotations = mergeAnnotations('ingressAnnotations', config.ingressAnnotations, props.ingressAnnotations);
  const serviceAnnotations = mergeAnnotations('serviceAnnotations', config.serviceAnnotations, props.serviceAnnotations);
  checkIngressClass(config, ingressAnnotations);
  checkServiceOverrides(config, ingressAnnotations, props.serviceAnnotations);
  return { config, ingressAnnotations, serviceAnnotations };
}

/** Step 3 with `gateway`: the provider's Gateway API policies instead of Ingress annotations. */
function bindGateway(
  scope: GracefulWebService, props: GracefulWebServiceProps, v: ValidatedProps, budget: ShutdownBudget, gateway: GatewayOptions,
): BoundLoadBalancer {
  const binding = gatewayProvider(props.loadBalancer)._bindGateway(scope, {
    budget,
    port: v.port,
    healthCheck: v.healthCheck,
    host: props.host,
    path: v.path,
    name: props.name,
    labels: v.labels,
    gateway,
  });
  return {
    config: { serviceType: binding.serviceType },
    ingressAnnotations: {},
    serviceAnnotations: { ...props.serviceAnnotations },
    gateway: binding,
  };
}

/** Step 6 with `gateway`: the provider's policies for the Service, then the HTTPRoute (and a created Gateway). */
function buildHttpRoute(
  { scope, props, v }: BuildStep, service: kplus.Service, binding: GatewayBinding,
): { route: ApiObject; gateway?: ApiObject } {
  binding.attach(service);
  return buildGatewayRoute(scope, {
    name: props.name,
    labels: v.labels,
    host: props.host,
    path: v.path,
    port: v.port,
    gateway: props.gateway!,
  }, service, binding);
}

/** `{ name }` when a name was given; a `name: undefined` key would stop cdk8s from generating one. */
function named(props: GracefulWebServiceProps): { name?: string } {
  return props.name === undefined ? {} : { name: props.name };
}

/** Step 4a: the Deployment, with the derived strategy, minReadySeconds and grace period. */
function buildDeployment({ scope, props, v, budget }: BuildStep): kplus.Deployment {
  const deployment = new kplus.Deployment(scope, 'Deployment', {
    metadata: { ...named(props), labels: v.labels, annotations: budgetAnnotations(budget) },
    podMetadata: { labels: v.labels, annotations: props.podAnnotations },
    // With a name, select on the standard labels only; otherwise on cdk8s-plus's path label.
    select: v.identity === undefined,
    replicas: v.replicas,
    strategy: kplus.DeploymentStrategy.rollingUpdate({
      maxSurge: v.maxSurge,
      maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
    }),
    minReady: Duration.seconds(budget.minReadySeconds),
    progressDeadline: Duration.seconds(budget.progressDeadlineSeconds),
    terminationGracePeriod: budget.terminationGracePeriod,
    securityContext: { ...props.podSecurityContext, ensureNonRoot: !v.runAsRoot },
  });
  if (v.identity !== undefined) {
    // cdk8s-plus still labels the pod template with its construct path (cdk8s.io/metadata.addr).
    // The label stays: cdk8s-plus helpers that select this Deployment's pods (a Service built
    // from it, network policies, affinity) select on it. It is not in any selector here, so a
    // moved construct only changes that pod label, which rolls the pods once, gracefully.
    deployment.select(kplus.LabelSelector.of({ labels: v.identity }));
  }
  return deployment;
}

/** Step 4b: the web container: probes, the preStop wait, the stop signal, writable paths, gates. */
function addWebContainer(
  { scope, props, v, budget }: BuildStep, deployment: kplus.Deployment, launch: LoadBalancerLaunch,
): kplus.Container {
  const probeOptions = {
    port: v.port,
    periodSeconds: Duration.seconds(v.healthCheck.intervalSeconds),
    timeoutSeconds: Duration.seconds(v.healthCheck.timeoutSeconds),
  };
  const container = deployment.addContainer({
    name: CONTAINER_NAME,
    image: props.image,
    portNumber: v.port,
    command: props.command,
    args: props.args,
    envVariables: props.envVariables,
    resources: props.resources,
    securityContext: {
      ...props.containerSecurityContext,
      ensureNonRoot: !v.runAsRoot,
      readOnlyRootFilesystem: v.readOnlyRootFilesystem,
    },
    readiness: kplus.Probe.fromHttpGet(v.healthCheck.path, {
      ...probeOptions,
      successThreshold: v.healthCheck.healthyThreshold,
      failureThreshold: v.healthCheck.unhealthyThreshold,
    }),
    startup: v.startup === undefined ? undefined : kplus.Probe.fromHttpGet(v.healthCheck.path, {
      ...probeOptions,
      successThreshold: 1,
      failureThreshold: v.startup.failureThreshold,
    }),
    lifecycle: v.preStopAction === PreStopAction.EXEC_SLEEP
      ? execPreStopLifecycle(budget, props.preStopCommand)
      : undefined,
  });
  if (v.startup === undefined) {
    // cdk8s-plus adds a TCP startup probe to every container with a port unless told otherwise.
    ApiObject.of(deployment).addJsonPatch(JsonPatch.remove('/spec/template/spec/containers/0/startupProbe'));
  }
  if (v.preStopAction === PreStopAction.SLEEP_ACTION && budget.preStopSleepSeconds > 0) {
    addNativePreStopSleep(deployment, CONTAINER_NAME, budget.preStopSleepSeconds);
  }
  if (props.setLifecycleStopSignal && budget.stopSignal !== undefined) {
    addLifecycleStopSignal(deployment, CONTAINER_NAME, budget.stopSignal);
  }
  for (const [i, writable] of v.writablePaths.entries()) {
    container.mount(writable, kplus.Volume.fromEmptyDir(scope, `Writable${i}`, `writable-${i}`));
  }
  const gates = launch.readinessGates ?? [];
  if (gates.length > 0) {
    // Kubernetes 1.27 knows readinessGates, so this patch survives cdk8s-plus's serialization.
    ApiObject.of(deployment).addJsonPatch(JsonPatch.add(
      '/spec/template/spec/readinessGates', gates.map((conditionType) => ({ conditionType }))));
  }
  return container;
}

/** Step 5: the Service in front of the pods, of the type the load balancer needs. */
function buildService({ scope, props, v }: BuildStep, deployment: kplus.Deployment, lb: BoundLoadBalancer): kplus.Service {
  const service = new kplus.Service(scope, 'Service', {
    metadata: { ...named(props), labels: v.labels, annotations: lb.serviceAnnotations },
    type: lb.config.serviceType,
    selector: v.identity === undefined ? deployment : undefined,
    ports: [{ name: 'http', port: v.port, targetPort: v.port }],
  });
  for (const [key, value] of Object.entries(v.identity ?? {})) {
    service.selectLabel(key, value);
  }
  return service;
}

/** Step 6: the route to the Service (today an Ingress; a second kind of route goes beside it). */
function buildIngress({ scope, props, v }: BuildStep, service: kplus.Service, lb: BoundLoadBalancer): kplus.Ingress {
  const ingress = new kplus.Ingress(scope, 'Ingress', {
    metadata: { ...named(props), labels: v.labels, annotations: lb.ingressAnnotations },
    className: lb.config.ingressClassName,
  });
  const backend = kplus.IngressBackend.fromService(service, { port: v.port });
  if (props.host !== undefined) {
    ingress.addHostRule(props.host, v.path, backend, kplus.HttpIngressPathType.PREFIX);
  } else {
    ingress.addRule(v.path, backend, kplus.HttpIngressPathType.PREFIX);
  }
  return ingress;
}

/** Step 7: a PodDisruptionBudget of one, by default from two replicas. */
function buildPodDisruptionBudget({ scope, props, v }: BuildStep, deployment: kplus.Deployment): ApiObject | undefined {
  if (!(props.podDisruptionBudget ?? v.replicas >= 2)) {
    return undefined;
  }
  return new ApiObject(scope, 'PodDisruptionBudget', {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { ...named(props), labels: v.labels },
    spec: {
      maxUnavailable: 1,
      // Lazy: selectors added later through the escape hatch are picked up too.
      selector: { matchLabels: Lazy.any({ produce: () => deployment.matchLabels }) },
    },
  });
}

/** The name of the service's container in the pod template. */
const CONTAINER_NAME = 'web';

/** Probe settings of the startup probe. */
interface StartupProbeSettings {
  readonly periodSeconds: number;
  readonly failureThreshold: number;
}

/** Props after validation, with defaults applied. */
interface ValidatedProps {
  readonly port: number;
  readonly replicas: number;
  readonly path: string;
  readonly healthCheck: HealthCheckSettings;
  readonly maxSurge: kplus.PercentOrAbsolute;
  readonly preStopAction: PreStopAction;
  readonly writablePaths: string[];
  readonly labels: { [key: string]: string };
  readonly identity?: { [key: string]: string };
  readonly runAsRoot: boolean;
  readonly readOnlyRootFilesystem: boolean;
  readonly startup?: StartupProbeSettings;
}

/** Every check on the props that needs no load balancer; throws plain messages naming the prop. */
function validateProps(props: GracefulWebServiceProps): ValidatedProps {
  checkPropTypes('GracefulWebServiceProps', props); // plain JS, config files, other jsii languages
  validateNonEmpty('image', props.image);
  if (props.name !== undefined) validateObjectName('name', props.name);
  const port = props.port ?? 80;
  validatePort('port', port);
  const replicas = props.replicas ?? 3;
  validatePositiveInteger('replicas', replicas);
  if (props.host !== undefined) validateHost('host', props.host);
  const path = props.path ?? '/';
  validateHttpPath('path', path);
  const healthCheck = resolveHealthCheck(props.healthCheckPath ?? '/', port, props.healthCheck);
  const maxSurge = props.maxSurge ?? kplus.PercentOrAbsolute.percent(25);
  if (maxSurge.isZero()) {
    throw new Error('maxSurge must be more than 0: maxUnavailable is 0, so a rolling update needs room for at least one extra pod');
  }
  const writablePaths = validateWritablePaths(props.writablePaths ?? []);
  const preStopAction = props.preStopAction ?? PreStopAction.EXEC_SLEEP;
  validatePreStopCommand(props, preStopAction);
  if (props.setLifecycleStopSignal && props.shutdown?.stopSignal === undefined) {
    throw new Error('setLifecycleStopSignal needs shutdown.stopSignal, the signal to write into lifecycle.stopSignal');
  }

  validateLabels('labels', props.labels);
  validateAnnotations('podAnnotations', props.podAnnotations);
  validateAnnotations('ingressAnnotations', props.ingressAnnotations);
  if (props.gateway !== undefined) validateGatewayOptions(props.gateway, props.ingressAnnotations);
  validateAnnotations('serviceAnnotations', props.serviceAnnotations);
  let identity: { [key: string]: string } | undefined;
  const labels = { ...props.labels };
  if (props.name !== undefined) {
    identity = {
      [GracefulWebService.NAME_LABEL]: props.name,
      [GracefulWebService.INSTANCE_LABEL]: props.name,
    };
    for (const [key, value] of Object.entries(identity)) {
      if (key in labels && labels[key] !== value) {
        throw new Error(`labels["${key}"] is "${labels[key]}", but name "${props.name}" sets it to "${value}": remove the label or change name`);
      }
      labels[key] = value;
    }
  }

  const runAsRoot = props.runAsRoot ?? false;
  const readOnlyRootFilesystem = props.readOnlyRootFilesystem ?? true;
  for (const [prop, context] of [['podSecurityContext', props.podSecurityContext], ['containerSecurityContext', props.containerSecurityContext]] as const) {
    if (context?.ensureNonRoot !== undefined && context.ensureNonRoot === runAsRoot) {
      throw new Error(
        `${prop}.ensureNonRoot is ${context.ensureNonRoot} but runAsRoot is ${runAsRoot}: `
        + 'set runAsRoot, which sets the pod and the container together, and leave ensureNonRoot out',
      );
    }
  }
  const containerRootFs = props.containerSecurityContext?.readOnlyRootFilesystem;
  if (containerRootFs !== undefined && containerRootFs !== readOnlyRootFilesystem) {
    throw new Error(
      `containerSecurityContext.readOnlyRootFilesystem is ${containerRootFs} but readOnlyRootFilesystem is ${readOnlyRootFilesystem}: `
      + 'set readOnlyRootFilesystem and leave it out of containerSecurityContext',
    );
  }

  const startupProbe = props.startupProbe ?? true;
  let startup: StartupProbeSettings | undefined;
  if (!startupProbe) {
    if (props.startupTimeout !== undefined) {
      throw new Error('startupTimeout is set but startupProbe is false: remove one of them');
    }
  } else {
    const timeout = wholeSeconds('startupTimeout', props.startupTimeout ?? GracefulWebService.DEFAULT_STARTUP_TIMEOUT);
    if (timeout === 0) {
      throw new Error('startupTimeout must be more than 0 seconds; to emit no startup probe, set startupProbe: false');
    }
    const periodSeconds = healthCheck.intervalSeconds;
    startup = { periodSeconds, failureThreshold: Math.ceil(timeout / periodSeconds) };
  }
  return {
    port,
    replicas,
    path,
    healthCheck,
    maxSurge,
    preStopAction,
    writablePaths,
    labels,
    identity,
    runAsRoot,
    readOnlyRootFilesystem,
    startup,
  };
}

/** Writable paths: absolute, no whitespace, each mount path once (Kubernetes rejects duplicates). */
function validateWritablePaths(paths: string[]): string[] {
  const seen = new Map<string, number>();
  for (const [i, writable] of paths.entries()) {
    validateHttpPath(`writablePaths[${i}]`, writable);
    const normalized = posixPath.normalize(writable).replace(/(.)\/$/, '$1');
    const first = seen.get(normalized);
    if (first !== undefined) {
      throw new Error(
        `writablePaths[${i}] ("${writable}") is the same directory as writablePaths[${first}] ("${paths[first]}"): `
        + 'Kubernetes rejects two volumes on one mount path; list it once',
      );
    }
    seen.set(normalized, i);
  }
  return paths;
}

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
  const program = props.preStopCommand[0];
  if (/\s/.test(program)) {
    const words = program.trim().split(/\s+/);
    throw new Error(
      `preStopCommand[0] is "${program}", which contains whitespace: the first element is the program to run, `
      + 'not a shell command line, so the kubelet would look for a program of that exact name. Write one element per argument '
      + `(${JSON.stringify([...words, ...props.preStopCommand.slice(1)])}) or run it through a shell `
      + `(${JSON.stringify(['/bin/sh', '-c', props.preStopCommand.join(' ')])})`,
    );
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

/** Names taken per chart, so two services cannot emit objects with the same name. */
const NAMES = new WeakMap<Chart, Map<string, GracefulWebService>>();

function claimName(service: GracefulWebService, name: string): void {
  const chart = Chart.of(service);
  const taken = NAMES.get(chart) ?? new Map<string, GracefulWebService>();
  NAMES.set(chart, taken);
  const other = taken.get(name);
  if (other !== undefined && other !== service) {
    throw new Error(
      `name "${name}" is already used by ${other.node.path} in chart ${chart.node.path}: `
      + 'two services would emit a Deployment, Service and Ingress of the same name',
    );
  }
  taken.set(name, service);
}

function releaseName(service: GracefulWebService): void {
  const taken = NAMES.get(Chart.of(service));
  for (const [name, owner] of taken ?? []) {
    if (owner === service) taken!.delete(name);
  }
}

/** The error, its message prefixed with the construct's path (once). */
function withPath(scope: Construct, error: unknown): Error {
  const prefix = `${scope.node.path}: `;
  const message = error instanceof Error ? error.message : String(error);
  if (message.startsWith(prefix)) {
    return error as Error;
  }
  return new Error(prefix + message, { cause: error });
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

/**
 * Where the controller reads the Service's annotations before the Ingress's, a user Service
 * annotation would silently replace a derived Ingress value (a deregistration delay, a health check).
 */
function checkServiceOverrides(
  lb: LoadBalancerConfig, ingressAnnotations: { [key: string]: string }, serviceAnnotations: { [key: string]: string } | undefined,
): void {
  const prefix = lb.serviceOverridesIngressPrefix;
  if (prefix === undefined) return;
  for (const [key, value] of Object.entries(serviceAnnotations ?? {})) {
    if (key.startsWith(prefix) && key in ingressAnnotations && ingressAnnotations[key] !== value) {
      throw new Error(
        `serviceAnnotations["${key}"] is "${value}", but the Ingress carries "${ingressAnnotations[key]}": `
        + `the controller reads ${prefix}* on the Service first, so the Service value would replace the derived one; `
        + 'remove it, or set the same value',
      );
    }
  }
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
