// The AWS checkout service again, routed through the Gateway API instead of an Ingress: the
// construct creates the Gateway (of the cluster's GatewayClass for the controller
// `gateway.k8s.aws/alb`) with a LoadBalancerConfiguration for its scheme, attaches an HTTPRoute,
// and derives the Service's TargetGroupConfiguration: IP targets (the Gateway controller's own
// default is instance), the probe-mirroring health check and the target group deregistration
// delay 120 (>= D + S = 90). Same budget as the Ingress example: preStop sleep 75, grace 120.
// Needs the AWS Load Balancer Controller v3.5.0 or later (gateway.k8s.aws/v1).
//
// Run on its own:  npx ts-node --project tsconfig.dev.json examples/aws-gateway-checkout.ts
import { ApiObject, App, Chart, ChartProps, Duration, Size } from 'cdk8s';
import { Cpu, Namespace } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { AwsAlbScheme, GracefulWebService, LoadBalancer, StopSignal } from '../src';

export class AwsGatewayCheckoutChart extends Chart {
  public readonly checkout: GracefulWebService;

  constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, { namespace: 'checkout-gateway', ...props });

    const namespace = new Namespace(this, 'namespace', { metadata: { name: this.namespace } });
    this.checkout = new GracefulWebService(this, 'checkout', {
      name: 'checkout',
      image: 'nginxinc/nginx-unprivileged:1.27-alpine',
      port: 8080,
      replicas: 3,
      host: 'checkout.example.com',
      loadBalancer: LoadBalancer.awsAlb({
        scheme: AwsAlbScheme.INTERNET_FACING,
        // The controller's webhook injects its readiness gate for Gateway backends as for Ingress ones.
        readinessGateNamespace: ApiObject.of(namespace),
      }),
      // `aws-alb` is this cluster's GatewayClass whose controllerName is gateway.k8s.aws/alb.
      gateway: { name: 'checkout-edge', create: true, gatewayClassName: 'aws-alb' },
      shutdown: { stopSignal: StopSignal.SIGQUIT, drainsOnStopSignal: true, drainTimeout: Duration.seconds(30) },
      writablePaths: ['/tmp'],
      resources: {
        cpu: { request: Cpu.millis(100), limit: Cpu.millis(500) },
        memory: { request: Size.mebibytes(64), limit: Size.mebibytes(128) },
      },
    });
  }
}

if (require.main === module) {
  const app = new App({ outdir: 'dist/examples' });
  const chart = new AwsGatewayCheckoutChart(app, 'aws-gateway-checkout');
  app.synth();
  console.log(chart.checkout.budget.describe());
}
