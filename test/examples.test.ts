import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Testing } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { container, KubeObject, only, validateObjects } from './util';
import { AlibabaAlbTeaChart } from '../examples/alibaba-alb-tea';
import { AwsAlbCheckoutChart } from '../examples/aws-alb-checkout';
import { AwsGatewayCheckoutChart } from '../examples/aws-gateway-checkout';
import { GkeGatewayStorefrontChart } from '../examples/gke-gateway-storefront';
import { GkeStorefrontChart } from '../examples/gke-storefront';
import { TencentClbMeetingChart } from '../examples/tencent-clb-meeting';

describe('examples', () => {
  test('alibaba-alb-tea: the vendor\'s tea service: the documented 10 / 45, D raised to the profile\'s 15 s, plus the 5 s safety margin: 20 / 55', () => {
    const chart = new AlibabaAlbTeaChart(Testing.app(), 'alibaba-alb-tea');
    const objects = Testing.synth(chart) as KubeObject[];
    validateObjects(objects);
    const deployment = only(objects, 'Deployment');
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBe(55);
    expect(container(objects).lifecycle.preStop.exec.command).toEqual(['/bin/sh', '-c', 'sleep 20']);
    expect(only(objects, 'Ingress').spec.rules[0].host).toBe('demo.ingress.top');
    expect(objects).toMatchSnapshot();
  });

  test('tencent-clb-meeting: a 50 s drain gives Tencent\'s 5 / 60, D raised to the profile\'s 10 s, plus the 5 s safety margin: 15 / 70', () => {
    const chart = new TencentClbMeetingChart(Testing.app(), 'tencent-clb-meeting');
    const objects = Testing.synth(chart) as KubeObject[];
    validateObjects(objects);
    expect(only(objects, 'Deployment').spec.template.spec.terminationGracePeriodSeconds).toBe(70);
    expect(container(objects).lifecycle.preStop.exec.command).toEqual(['/bin/sh', '-c', 'sleep 15']);
    expect(objects).toMatchSnapshot();
  });

  test('aws-alb-checkout: D = 60 s, the chart\'s namespace labelled for the controller\'s readiness gate', () => {
    const chart = new AwsAlbCheckoutChart(Testing.app(), 'aws-alb-checkout');
    const objects = Testing.synth(chart) as KubeObject[];
    validateObjects(objects);
    expect(only(objects, 'Namespace').metadata.labels).toEqual({ 'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled' });
    // M = 25 % of 60 = 15: preStop 75, grace 60 + 15 + 30 + 15 = 120.
    expect(only(objects, 'Deployment').spec.template.spec.terminationGracePeriodSeconds).toBe(120);
    expect(only(objects, 'Deployment').spec.minReadySeconds).toBe(0);
    expect(container(objects).lifecycle.preStop.exec.command).toEqual(['/bin/sh', '-c', 'sleep 75']);
    expect(only(objects, 'Ingress').metadata.annotations['alb.ingress.kubernetes.io/target-group-attributes'])
      .toBe('deregistration_delay.timeout_seconds=120,slow_start.duration_seconds=30');
    expect(objects).toMatchSnapshot();
  });

  test('gke-storefront: D = 60 s (the profile\'s largest lag; Google\'s example sleeps 40), a BackendConfig draining for the grace period', () => {
    const chart = new GkeStorefrontChart(Testing.app(), 'gke-storefront');
    const objects = Testing.synth(chart) as KubeObject[];
    validateObjects(objects);
    // M = 25 % of 60 = 15: preStop 75, grace 60 + 15 + 30 + 15 = 120.
    expect(only(objects, 'Deployment').spec.template.spec.terminationGracePeriodSeconds).toBe(120);
    expect(container(objects).lifecycle.preStop.exec.command).toEqual(['/bin/sh', '-c', 'sleep 75']);
    expect(only(objects, 'BackendConfig').spec.connectionDraining.drainingTimeoutSec).toBe(120);
    expect(only(objects, 'BackendConfig').spec.healthCheck.port).toBe(8080);
    expect(objects).toMatchSnapshot();
  });

  test('aws-gateway-checkout: the same budget as aws-alb-checkout, through a created Gateway and a TargetGroupConfiguration', () => {
    const objects = Testing.synth(new AwsGatewayCheckoutChart(Testing.app(), 'aws-gateway-checkout')) as KubeObject[];
    validateObjects(objects);
    const viaIngress = Testing.synth(new AwsAlbCheckoutChart(Testing.app(), 'aws-alb-checkout')) as KubeObject[];
    expect(only(objects, 'Deployment').spec.template.spec.terminationGracePeriodSeconds).toBe(120);
    expect(container(objects).lifecycle.preStop).toEqual(container(viaIngress).lifecycle.preStop);
    expect(only(objects, 'Deployment').spec.minReadySeconds).toBe(0);
    const tgc = only(objects, 'TargetGroupConfiguration');
    expect(tgc.spec.targetReference).toEqual({ name: 'checkout' });
    expect(tgc.spec.defaultConfiguration.targetGroupAttributes).toEqual([{ key: 'deregistration_delay.timeout_seconds', value: '120' }]);
    expect(only(objects, 'Gateway').spec.infrastructure.parametersRef.name).toBe(only(objects, 'LoadBalancerConfiguration').metadata.name);
    expect(only(objects, 'HTTPRoute').spec.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'checkout-edge', sectionName: 'http' }]);
    expect(objects).toMatchSnapshot();
  });

  test('gke-gateway-storefront: a GCPBackendPolicy draining for the grace period (GKE would drain 0 s) on a shared Gateway', () => {
    const objects = Testing.synth(new GkeGatewayStorefrontChart(Testing.app(), 'gke-gateway-storefront')) as KubeObject[];
    validateObjects(objects);
    expect(only(objects, 'Deployment').spec.template.spec.terminationGracePeriodSeconds).toBe(120);
    expect(only(objects, 'GCPBackendPolicy').spec.default).toEqual({ timeoutSec: 60, connectionDraining: { drainingTimeoutSec: 120 } });
    expect(only(objects, 'HealthCheckPolicy').spec.default.config.httpHealthCheck.port).toBe(8080);
    expect(only(objects, 'HTTPRoute').spec.parentRefs[0]).toMatchObject({ name: 'external', namespace: 'infra', sectionName: 'https' });
    expect(objects).toMatchSnapshot();
  });

  // The images must start under the security context the manifests give them.
  test('the root nginx image is allowed to run as root, with a read-only root filesystem and writable nginx dirs', () => {
    const objects = Testing.synth(new AlibabaAlbTeaChart(Testing.app(), 'tea')) as KubeObject[];
    const pod = only(objects, 'Deployment').spec.template.spec;
    expect(pod.securityContext.runAsNonRoot).toBe(false);
    expect(container(objects).securityContext).toMatchObject({ runAsNonRoot: false, readOnlyRootFilesystem: true });
    expect(container(objects).volumeMounts.map((m: any) => m.mountPath).sort()).toEqual(['/var/cache/nginx', '/var/run']);
  });

  test('the unprivileged nginx image keeps the non-root defaults and gets a writable /tmp', () => {
    const objects = Testing.synth(new TencentClbMeetingChart(Testing.app(), 'meeting')) as KubeObject[];
    expect(container(objects).image).toBe('nginxinc/nginx-unprivileged:1.27-alpine');
    expect(container(objects).ports).toEqual([{ containerPort: 8080 }]);
    expect(container(objects).securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true });
    expect(container(objects).volumeMounts.map((m: any) => m.mountPath)).toEqual(['/tmp']);
  });

  test('the final YAML files parse back to the same valid objects', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'gws-examples-'));
    try {
      const app = new App({ outdir });
      new AlibabaAlbTeaChart(app, 'alibaba-alb-tea');
      new TencentClbMeetingChart(app, 'tencent-clb-meeting');
      new AwsAlbCheckoutChart(app, 'aws-alb-checkout');
      new GkeStorefrontChart(app, 'gke-storefront');
      new AwsGatewayCheckoutChart(app, 'aws-gateway-checkout');
      new GkeGatewayStorefrontChart(app, 'gke-gateway-storefront');
      app.synth();
      const kinds: { [name: string]: string[] } = {
        'alibaba-alb-tea': ['Deployment', 'Service', 'Ingress', 'PodDisruptionBudget'],
        'tencent-clb-meeting': ['Deployment', 'Service', 'Ingress', 'PodDisruptionBudget'],
        'aws-alb-checkout': ['Namespace', 'Deployment', 'Service', 'Ingress', 'PodDisruptionBudget'],
        'gke-storefront': ['BackendConfig', 'Deployment', 'Service', 'Ingress', 'PodDisruptionBudget'],
        'aws-gateway-checkout': ['Namespace', 'Deployment', 'Service', 'TargetGroupConfiguration', 'LoadBalancerConfiguration', 'Gateway', 'HTTPRoute', 'PodDisruptionBudget'],
        'gke-gateway-storefront': ['Deployment', 'Service', 'GCPBackendPolicy', 'HealthCheckPolicy', 'HTTPRoute', 'PodDisruptionBudget'],
      };
      for (const [name, expected] of Object.entries(kinds)) {
        const text = fs.readFileSync(path.join(outdir, `${name}.k8s.yaml`), 'utf8');
        const docs = parseAllDocuments(text).map((d) => d.toJS() as KubeObject);
        expect(docs.map((d) => d.kind)).toEqual(expected);
        // Every example follows the README's advice to set `name`: no generated, hashed names.
        expect(docs.map((d) => d.metadata.name).filter((n: string) => /-[0-9a-f]{8}$/.test(n))).toEqual([]);
        validateObjects(docs);
      }
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});
