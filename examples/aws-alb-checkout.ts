// A checkout service on EKS behind an ALB from the AWS Load Balancer Controller. Pods are IP
// targets; the chart owns its namespace, so the construct labels it for the controller's
// readiness gate. With the defaults D = 60 s and M = 15 s (25 % of D): preStop sleep 75, grace
// period 120, and the ALB's target group deregistration delay 120 (>= D + S = 90).
//
// Run on its own:  npx ts-node --project tsconfig.dev.json examples/aws-alb-checkout.ts
import { ApiObject, App, Chart, ChartProps, Duration, Size } from 'cdk8s';
import { Cpu, Namespace } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { AwsAlbScheme, GracefulWebService, LoadBalancer, StopSignal } from '../src';

export class AwsAlbCheckoutChart extends Chart {
  public readonly checkout: GracefulWebService;

  constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, { namespace: 'checkout', ...props });

    const namespace = new Namespace(this, 'namespace', { metadata: { name: this.namespace } });
    this.checkout = new GracefulWebService(this, 'checkout', {
      // Objects named exactly `checkout`, selected by the standard labels (no hash, stable on a refactor).
      name: 'checkout',
      // nginx built to run as an unprivileged user (UID 101) on port 8080; its image declares
      // STOPSIGNAL SIGQUIT, nginx's graceful shutdown, so it drains on the stop signal.
      image: 'nginxinc/nginx-unprivileged:1.27-alpine',
      port: 8080,
      replicas: 3,
      host: 'checkout.example.com',
      loadBalancer: LoadBalancer.awsAlb({
        scheme: AwsAlbScheme.INTERNET_FACING,
        // The controller injects its readiness gate into pods of this namespace.
        readinessGateNamespace: ApiObject.of(namespace),
        slowStartDuration: Duration.seconds(30),
      }),
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
  const chart = new AwsAlbCheckoutChart(app, 'aws-alb-checkout');
  app.synth();
  console.log(chart.checkout.budget.describe());
}
