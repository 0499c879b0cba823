// The GKE storefront routed through a shared Gateway that a platform team runs in the `infra`
// namespace (listener `https`). GKE's GCPBackendPolicy drains for 0 s unless told otherwise; the
// construct sets connectionDraining.drainingTimeoutSec to the grace period (90 s, >= D + S = 70),
// merges the team's backend timeout into the same policy, and mirrors the readiness probe in a
// HealthCheckPolicy. Whether GKE gates Gateway backends with its NEG readiness gate was not
// confirmed, so minReadySeconds covers the load balancer's registration.
//
// Run on its own:  npx ts-node --project tsconfig.dev.json examples/gke-gateway-storefront.ts
import { App, Chart, ChartProps, Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { GracefulWebService, LoadBalancer, StopSignal } from '../src';

export class GkeGatewayStorefrontChart extends Chart {
  public readonly storefront: GracefulWebService;

  constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, { namespace: 'storefront', ...props });

    this.storefront = new GracefulWebService(this, 'storefront', {
      name: 'storefront',
      image: 'nginxinc/nginx-unprivileged:1.27-alpine',
      port: 8080,
      replicas: 3,
      host: 'shop.example.com',
      loadBalancer: LoadBalancer.gkeIngress({ backendPolicyDefaults: { timeoutSec: 60 } }),
      // The shared Gateway must allow routes from this namespace on its `https` listener.
      gateway: { name: 'external', namespace: 'infra', sectionName: 'https' },
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
  const chart = new GkeGatewayStorefrontChart(app, 'gke-gateway-storefront');
  app.synth();
  console.log(chart.storefront.budget.describe());
}
