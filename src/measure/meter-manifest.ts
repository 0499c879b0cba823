/**
 * The lag meter's manifest for users who do not use cdk8s: the same `LagMeter` construct,
 * synthesized into YAML, for one of the four providers with its defaults.
 */
import { App, Chart, Duration } from 'cdk8s';
import { LagMeter } from '../lag-meter';
import { ILoadBalancer, LoadBalancer } from '../load-balancer';
import { LbProfileId } from '../rehearse/lb-profiles';

/** The provider's load balancer with its defaults, by the id `rehearse` and `measure` use. */
export function defaultLoadBalancer(provider: LbProfileId): ILoadBalancer {
  switch (provider) {
    case 'alibaba-alb': return LoadBalancer.alibabaAlb();
    case 'tencent-clb': return LoadBalancer.tencentClb();
    case 'aws-alb': return LoadBalancer.awsAlb();
    case 'gke-ingress': return LoadBalancer.gkeIngress();
  }
}

export interface MeterManifestOptions {
  readonly provider: LbProfileId;
  readonly host?: string;
  readonly path?: string;
  readonly name?: string;
  readonly namespace?: string;
  /** Seconds. */
  readonly waitSeconds?: number;
  readonly replicas?: number;
  readonly image?: string;
  readonly port?: number;
}

/** The meter's manifest as multi-document YAML. */
export function lagMeterManifest(o: MeterManifestOptions): string {
  const app = new App();
  const chart = new Chart(app, 'lag-meter', { namespace: o.namespace, disableResourceNameHashes: true });
  new LagMeter(chart, 'meter', {
    loadBalancer: defaultLoadBalancer(o.provider),
    host: o.host,
    path: o.path,
    name: o.name,
    wait: o.waitSeconds === undefined ? undefined : Duration.seconds(o.waitSeconds),
    replicas: o.replicas,
    image: o.image,
    port: o.port,
  });
  return app.synthYaml();
}
