import { ApiObject, App, Chart, Testing } from 'cdk8s';
import { Namespace } from 'cdk8s-plus-27';
import { AwsAlbTargetType, GracefulWebService, GracefulWebServiceProps, LoadBalancer } from '../src';
import { baseProps, checkScope, KubeObject } from './util';
import { AlibabaAlbTeaChart } from '../examples/alibaba-alb-tea';
import { AwsAlbCheckoutChart } from '../examples/aws-alb-checkout';
import { AwsGatewayCheckoutChart } from '../examples/aws-gateway-checkout';
import { GkeGatewayStorefrontChart } from '../examples/gke-gateway-storefront';
import { GkeStorefrontChart } from '../examples/gke-storefront';
import { TencentClbMeetingChart } from '../examples/tencent-clb-meeting';

// A cluster-scoped object (a Namespace, an IngressClass, ...) must not carry metadata.namespace; a cdk8s
// chart with a namespace gives one to every object in it (issue 15, vendor correction 8).

describe('cluster-scoped objects carry no metadata.namespace', () => {
  const examples: [string, (app: App) => Chart][] = [
    ['alibaba-alb-tea', (app) => new AlibabaAlbTeaChart(app, 'alibaba-alb-tea')],
    ['tencent-clb-meeting', (app) => new TencentClbMeetingChart(app, 'tencent-clb-meeting')],
    ['aws-alb-checkout', (app) => new AwsAlbCheckoutChart(app, 'aws-alb-checkout')],
    ['gke-storefront', (app) => new GkeStorefrontChart(app, 'gke-storefront')],
    ['aws-gateway-checkout', (app) => new AwsGatewayCheckoutChart(app, 'aws-gateway-checkout')],
    ['gke-gateway-storefront', (app) => new GkeGatewayStorefrontChart(app, 'gke-gateway-storefront')],
  ];

  test.each(examples)('example %s', (_name, build) => {
    const objects = Testing.synth(build(Testing.app())) as KubeObject[];
    expect(() => checkScope(objects)).not.toThrow();
    for (const o of objects.filter((x) => x.kind === 'Namespace')) expect(o.metadata).not.toHaveProperty('namespace');
  });

  test('the AWS example\'s Namespace: labelled, and no namespace field (it had metadata.namespace: checkout)', () => {
    const objects = Testing.synth(new AwsAlbCheckoutChart(Testing.app(), 'aws-alb-checkout')) as KubeObject[];
    const namespace = objects.find((o) => o.kind === 'Namespace')!;
    expect(namespace.metadata).toEqual({ name: 'checkout', labels: { 'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled' } });
    // Every namespaced object still lands in the chart's namespace.
    for (const o of objects.filter((x) => x.kind !== 'Namespace')) expect(o.metadata.namespace).toBe('checkout');
  });

  const options: [string, Partial<GracefulWebServiceProps>][] = [
    ['alibaba', { loadBalancer: LoadBalancer.alibabaAlb() }],
    ['tencent', { loadBalancer: LoadBalancer.tencentClb() }],
    ['aws ip', { loadBalancer: LoadBalancer.awsAlb() }],
    ['aws instance', { loadBalancer: LoadBalancer.awsAlb({ targetType: AwsAlbTargetType.INSTANCE }) }],
    ['aws gate declared', { loadBalancer: LoadBalancer.awsAlb({ readinessGateNamespaceLabelled: true }) }],
    ['gke', { loadBalancer: LoadBalancer.gkeIngress() }],
    ['aws gateway', { loadBalancer: LoadBalancer.awsAlb(), gateway: { name: 'edge', create: true, gatewayClassName: 'aws-alb' } }],
    ['gke gateway', { loadBalancer: LoadBalancer.gkeIngress(), gateway: { name: 'edge', create: true, gatewayClassName: 'gke-l7-global-external-managed' } }],
  ];

  test.each(options)('construct option %s, in a chart with a namespace and its own Namespace object', (_name, overrides) => {
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    new Namespace(chart, 'ns', { metadata: { name: 'shop' } });
    new GracefulWebService(chart, 'web', baseProps(overrides));
    const objects = Testing.synth(chart) as KubeObject[];
    // The construct does not touch a Namespace it was not given, so only its own objects are checked here.
    expect(() => checkScope(objects.filter((o) => o.kind !== 'Namespace'))).not.toThrow();
    expect(objects.filter((o) => o.kind !== 'Namespace').every((o) => o.metadata.namespace === 'shop')).toBe(true);
  });

  test.each([
    ['Ingress', {}],
    ['Gateway', { gateway: { name: 'edge' } }],
  ])('readinessGateNamespace (%s): the labelled Namespace loses the namespace the chart gave it', (_name, extra) => {
    const chart = new Chart(Testing.app(), 'shop', { namespace: 'shop' });
    const namespace = ApiObject.of(new Namespace(chart, 'ns', { metadata: { name: 'shop' } }));
    expect(namespace.metadata.namespace).toBe('shop'); // what cdk8s gives it
    new GracefulWebService(chart, 'a', baseProps({ ...extra, loadBalancer: LoadBalancer.awsAlb({ readinessGateNamespace: namespace }) }));
    new GracefulWebService(chart, 'b', baseProps({ ...extra, name: 'b', loadBalancer: LoadBalancer.awsAlb({ readinessGateNamespace: namespace }) }));
    const objects = Testing.synth(chart) as KubeObject[];
    checkScope(objects);
    expect(objects.find((o) => o.kind === 'Namespace')!.metadata).toEqual({ name: 'shop', labels: { 'elbv2.k8s.aws/pod-readiness-gate-inject': 'enabled' } });
  });

  test('the check itself fails on a Namespace with a namespace field', () => {
    expect(() => checkScope([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x', namespace: 'x' } }]))
      .toThrow('Namespace x is cluster-scoped but carries metadata.namespace "x"');
  });
});
