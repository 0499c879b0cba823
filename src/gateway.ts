import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { HealthCheckSettings } from './health-check';
import { Gateway, HttpRoute, HttpRouteSpecRulesMatchesPathType } from './imports/gateway.networking.k8s.io';
import type { ILoadBalancer, LoadBalancerBindOptions, LoadBalancerLaunch } from './load-balancer';
import { validateIngressClassName, validateObjectName, validatePort } from './validation';

/**
 * The Gateway (Kubernetes Gateway API, `gateway.networking.k8s.io/v1`) a `GracefulWebService`
 * attaches its HTTPRoute to, instead of emitting an Ingress.
 *
 * Supported with `LoadBalancer.awsAlb()` (AWS Load Balancer Controller ≥ v3.5.0, which serves the
 * `gateway.k8s.aws/v1` policies) and `LoadBalancer.gkeIngress()` (GKE's Gateway controller). The
 * construct derives the provider's draining and health-check policies from the same budget as for
 * an Ingress. Alibaba Cloud ALB and Tencent Cloud CLB are refused (see docs/gateway-api.md).
 */
export interface GatewayOptions {
  /**
   * The Gateway's name.
   */
  readonly name: string;

  /**
   * The Gateway's namespace. A Gateway in another namespace than the route must allow routes from
   * the route's namespace (`allowedRoutes` on its listener).
   *
   * @default - the route's namespace
   */
  readonly namespace?: string;

  /**
   * The Gateway listener the route attaches to (`parentRefs[].sectionName`).
   *
   * @default - every listener of the Gateway that accepts the route; with `create`, the listener is named "http"
   */
  readonly sectionName?: string;

  /**
   * Emit the Gateway too, with one HTTP listener on `listenerPort`, of `gatewayClassName`. On AWS
   * the construct also emits a `LoadBalancerConfiguration` for it (the load balancer's `scheme`).
   * A created Gateway lives in the route's namespace: `namespace` must then be left out.
   *
   * @default false - the Gateway exists already
   */
  readonly create?: boolean;

  /**
   * The GatewayClass of the created Gateway. Only with `create`.
   *
   * @default - GKE: "gke-l7-global-external-managed"; AWS: none, it is required (the
   * GatewayClass whose `controllerName` is `gateway.k8s.aws/alb` has a name the cluster chose)
   */
  readonly gatewayClassName?: string;

  /**
   * The port of the created Gateway's HTTP listener. Only with `create`.
   *
   * @default 80
   */
  readonly listenerPort?: number;
}

/** What a provider needs to know to bind a Gateway backend. */
export interface GatewayBindOptions extends LoadBalancerBindOptions {
  readonly gateway: GatewayOptions;
}

/** The provider's part of a Gateway-routed service. */
export interface GatewayBinding {
  /** The Service type the Gateway's load balancer needs. */
  readonly serviceType: kplus.ServiceType;
  /** The GatewayClass to create a Gateway of when the user names none. */
  readonly defaultGatewayClassName?: string;
  /** Adds the provider's policies for the Service (called once the Service exists). */
  attach(service: kplus.Service): void;
  /** Adds the provider's infrastructure object for a created Gateway, returning its reference. */
  infrastructure?(gatewayName: string): { group: string; kind: string; name: string } | undefined;
}

/**
 * The internal hooks a built-in provider implements for the Gateway API (members starting with
 * `_` are not part of the jsii API).
 */
export interface GatewayProvider {
  _gatewayLaunch(healthCheck: HealthCheckSettings): LoadBalancerLaunch;
  _bindGateway(scope: Construct, options: GatewayBindOptions): GatewayBinding;
}

/** The provider's Gateway hooks, or a refusal naming what works instead. */
export function gatewayProvider(lb: ILoadBalancer): GatewayProvider {
  const candidate = lb as unknown as Partial<GatewayProvider>;
  if (typeof candidate._gatewayLaunch !== 'function' || typeof candidate._bindGateway !== 'function') {
    throw new Error(
      `gateway is not supported with ${lb.displayName}: the construct derives Gateway API policies only for `
      + 'LoadBalancer.awsAlb() and LoadBalancer.gkeIngress(); leave gateway out to emit an Ingress',
    );
  }
  return candidate as GatewayProvider;
}

/** Checks the Gateway options on their own (names, the create-only props). */
export function validateGatewayOptions(gateway: GatewayOptions, ingressAnnotations: { [key: string]: string } | undefined): void {
  if (ingressAnnotations !== undefined) {
    throw new Error('ingressAnnotations is set together with gateway: no Ingress is emitted, so they would go nowhere; remove them');
  }
  validateIngressClassName('gateway.name', gateway.name);
  if (gateway.namespace !== undefined) validateObjectName('gateway.namespace', gateway.namespace);
  if (gateway.sectionName !== undefined) validateIngressClassName('gateway.sectionName', gateway.sectionName);
  if (!gateway.create) {
    for (const prop of ['gatewayClassName', 'listenerPort'] as const) {
      if (gateway[prop] !== undefined) {
        throw new Error(`gateway.${prop} is set but gateway.create is not: it only applies to a Gateway the construct creates`);
      }
    }
    return;
  }
  if (gateway.namespace !== undefined) {
    throw new Error(
      'gateway.namespace is set together with gateway.create: the created Gateway lives in the route\'s namespace '
      + '(the chart\'s), whose listener accepts routes of its own namespace only; leave gateway.namespace out',
    );
  }
  if (gateway.gatewayClassName !== undefined) validateIngressClassName('gateway.gatewayClassName', gateway.gatewayClassName);
  if (gateway.listenerPort !== undefined) validatePort('gateway.listenerPort', gateway.listenerPort);
}

/** What the HTTPRoute (and a created Gateway) are built from. */
export interface RouteOptions {
  readonly name?: string;
  readonly labels: { [key: string]: string };
  readonly host?: string;
  readonly path: string;
  readonly port: number;
  readonly gateway: GatewayOptions;
}

/** Emits the Gateway when asked to, then the HTTPRoute to the Service through it. */
export function buildGatewayRoute(
  scope: Construct, options: RouteOptions, service: kplus.Service, binding: GatewayBinding,
): { route: ApiObject; gateway?: ApiObject } {
  const named = options.name === undefined ? {} : { name: options.name };
  const gatewayOptions = options.gateway;
  let gateway: Gateway | undefined;
  if (gatewayOptions.create) {
    const className = gatewayOptions.gatewayClassName ?? binding.defaultGatewayClassName;
    if (className === undefined) {
      throw new Error('gateway.gatewayClassName is required with gateway.create for this load balancer: name the GatewayClass to create the Gateway of');
    }
    const parametersRef = binding.infrastructure?.(gatewayOptions.name);
    gateway = new Gateway(scope, 'Gateway', {
      metadata: { name: gatewayOptions.name, labels: options.labels },
      spec: {
        gatewayClassName: className,
        ...(parametersRef ? { infrastructure: { parametersRef } } : {}),
        listeners: [{
          name: gatewayOptions.sectionName ?? 'http',
          port: gatewayOptions.listenerPort ?? 80,
          protocol: 'HTTP',
        }],
      },
    });
  }
  const route = new HttpRoute(scope, 'HTTPRoute', {
    metadata: { ...named, labels: options.labels },
    spec: {
      parentRefs: [{
        group: 'gateway.networking.k8s.io',
        kind: 'Gateway',
        name: gatewayOptions.name,
        ...(gatewayOptions.namespace !== undefined ? { namespace: gatewayOptions.namespace } : {}),
        ...(gatewayOptions.create
          ? { sectionName: gatewayOptions.sectionName ?? 'http' }
          : gatewayOptions.sectionName !== undefined ? { sectionName: gatewayOptions.sectionName } : {}),
      }],
      ...(options.host !== undefined ? { hostnames: [options.host] } : {}),
      rules: [{
        matches: [{ path: { type: HttpRouteSpecRulesMatchesPathType.PATH_PREFIX, value: options.path } }],
        backendRefs: [{ group: '', kind: 'Service', name: service.name, port: options.port }],
      }],
    },
  });
  return { route, gateway };
}
