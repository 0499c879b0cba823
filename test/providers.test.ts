import { Duration } from 'cdk8s';
import { AlibabaAlb, LoadBalancer, TencentClb, TencentIngressClassMode } from '../src';
import { baseProps, only, synth, validateObjects } from './util';

describe('Alibaba Cloud ALB', () => {
  test('defaults: ingressClassName alb, NodePort Service, 15 s deregistration delay', () => {
    const lb = LoadBalancer.alibabaAlb();
    expect(lb).toBeInstanceOf(AlibabaAlb);
    expect(lb.defaultDeregistrationDelay.toSeconds()).toBe(15);
    const { objects } = synth(baseProps({ loadBalancer: lb }));
    const ingress = only(objects, 'Ingress');
    expect(ingress.spec.ingressClassName).toBe('alb');
    expect(Object.keys(ingress.metadata.annotations).every((k) => k.startsWith('alb.ingress.kubernetes.io/healthcheck')
      || k.endsWith('threshold-count'))).toBe(true);
    expect(only(objects, 'Service').spec.type).toBe('NodePort');
    validateObjects(objects);
  });

  test('directAccess (Terway) uses a ClusterIP Service', () => {
    const { objects } = synth(baseProps({ loadBalancer: LoadBalancer.alibabaAlb({ directAccess: true }) }));
    expect(only(objects, 'Service').spec.type).toBe('ClusterIP');
  });

  test('a configurable ingress class', () => {
    const { objects } = synth(baseProps({ loadBalancer: LoadBalancer.alibabaAlb({ ingressClassName: 'alb-internal' }) }));
    expect(only(objects, 'Ingress').spec.ingressClassName).toBe('alb-internal');
  });

  test.each(['', 'ALB', 'alb_1'])('refuses the ingress class %j', (name) => {
    expect(() => synth(baseProps({ loadBalancer: LoadBalancer.alibabaAlb({ ingressClassName: name }) }))).toThrow(/loadBalancer\.ingressClassName/);
  });
});

describe('Tencent Cloud CLB', () => {
  const ingressOf = (lb = LoadBalancer.tencentClb()) => only(synth(baseProps({ loadBalancer: lb })).objects, 'Ingress');

  test('defaults: class annotation qcloud, direct access with both grace-shutdown switches, 10 s delay', () => {
    const lb = LoadBalancer.tencentClb();
    expect(lb).toBeInstanceOf(TencentClb);
    expect(lb.defaultDeregistrationDelay.toSeconds()).toBe(10);
    const { objects } = synth(baseProps({ loadBalancer: lb }));
    const ingress = only(objects, 'Ingress');
    expect(ingress.metadata.annotations).toEqual({
      'kubernetes.io/ingress.class': 'qcloud',
      'ingress.cloud.tencent.com/direct-access': 'true',
      'ingress.cloud.tencent.com/enable-grace-shutdown': 'true',
      'ingress.cloud.tencent.com/enable-grace-shutdown-tkex': 'true',
    });
    expect(ingress.spec.ingressClassName).toBeUndefined();
    expect(only(objects, 'Service').spec.type).toBe('ClusterIP');
    validateObjects(objects);
  });

  test('the class in spec.ingressClassName on request, never both', () => {
    const ingress = ingressOf(LoadBalancer.tencentClb({ ingressClassMode: TencentIngressClassMode.SPEC }));
    expect(ingress.spec.ingressClassName).toBe('qcloud');
    expect(ingress.metadata.annotations['kubernetes.io/ingress.class']).toBeUndefined();
  });

  test('without direct access: NodePort and no grace-shutdown annotations', () => {
    const { objects } = synth(baseProps({ loadBalancer: LoadBalancer.tencentClb({ directAccess: false }) }));
    expect(only(objects, 'Service').spec.type).toBe('NodePort');
    expect(only(objects, 'Ingress').metadata.annotations).toEqual({ 'kubernetes.io/ingress.class': 'qcloud' });
    validateObjects(objects);
  });

  test('grace-shutdown switches can be turned off one by one', () => {
    const annotations = ingressOf(LoadBalancer.tencentClb({ graceShutdownOnUnhealthy: false })).metadata.annotations;
    expect(annotations['ingress.cloud.tencent.com/enable-grace-shutdown']).toBe('true');
    expect(annotations['ingress.cloud.tencent.com/enable-grace-shutdown-tkex']).toBeUndefined();
  });

  test.each([
    [{ directAccess: false, graceShutdown: true }, /loadBalancer\.graceShutdown needs loadBalancer\.directAccess/],
    [{ directAccess: false, graceShutdownOnUnhealthy: true }, /loadBalancer\.graceShutdownOnUnhealthy needs loadBalancer\.directAccess/],
    [{ directAccess: false, graceShutdown: true, graceShutdownOnUnhealthy: true },
      /^test\/web: loadBalancer\.graceShutdown and loadBalancer\.graceShutdownOnUnhealthy need loadBalancer\.directAccess/],
  ])('grace shutdown without direct access is refused: %j', (props, message) => {
    expect(() => synth(baseProps({ loadBalancer: LoadBalancer.tencentClb(props) }))).toThrow(message);
    expect(() => LoadBalancer.tencentClb(props)).not.toThrow(); // checked inside the construct, to get its path
  });

  test('existing CLB and internal subnet', () => {
    const annotations = ingressOf(LoadBalancer.tencentClb({ existingLoadBalancerId: 'lb-123', subnetId: 'subnet-abc' })).metadata.annotations;
    expect(annotations['kubernetes.io/ingress.existLbId']).toBe('lb-123');
    expect(annotations['kubernetes.io/ingress.subnetId']).toBe('subnet-abc');
    expect(() => synth(baseProps({ loadBalancer: LoadBalancer.tencentClb({ subnetId: ' ' }) }))).toThrow(/loadBalancer\.subnetId must not be empty/);
  });

  test('never writes TKE\'s own readiness gate', () => {
    const { objects } = synth(baseProps({ loadBalancer: LoadBalancer.tencentClb() }));
    expect(only(objects, 'Deployment').spec.template.spec.readinessGates).toBeUndefined();
  });

  test('a declared deregistration delay replaces the provider default', () => {
    const { service } = synth(baseProps({
      loadBalancer: LoadBalancer.tencentClb(), shutdown: { deregistrationDelay: Duration.seconds(15) },
    }));
    expect(service.budget.preStopSleepSeconds).toBe(20);
    expect(service.budget.terminationGracePeriodSeconds).toBe(55);
  });
});
