// A storefront on GKE behind an external Application Load Balancer with container-native load
// balancing (NEGs). D defaults to 60 s, the largest lag the rehearsal's gke-ingress profile draws
// (Google's own guidance on 502s during rollouts sleeps 40 s; users report longer); M = 15 s, 25 %
// of D, pads it to 75 s. The BackendConfig drains for the whole grace period (120 s) and checks
// pods the way the readiness probe does. GKE injects the NEG readiness
// gate itself.
//
// Run on its own:  npx ts-node --project tsconfig.dev.json examples/gke-storefront.ts
import { App, Chart, ChartProps, Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { GracefulWebService, LoadBalancer, StopSignal } from '../src';

export class GkeStorefrontChart extends Chart {
  public readonly storefront: GracefulWebService;

  constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);

    this.storefront = new GracefulWebService(this, 'storefront', {
      // Objects named exactly `storefront`, selected by the standard labels (no hash, stable on a refactor).
      name: 'storefront',
      // Its image declares STOPSIGNAL SIGQUIT, nginx's graceful shutdown (on SIGTERM, its fast
      // shutdown, nginx would cut in-flight requests): it drains on the signal it really gets.
      image: 'nginxinc/nginx-unprivileged:1.27-alpine',
      port: 8080,
      replicas: 3,
      host: 'shop.example.com',
      loadBalancer: LoadBalancer.gkeIngress(),
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
  const chart = new GkeStorefrontChart(app, 'gke-storefront');
  app.synth();
  console.log(chart.storefront.budget.describe());
}
