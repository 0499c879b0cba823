// The "tea" service from Alibaba Cloud's ACK guide to smooth rolling updates behind an ALB
// Ingress: 3 replicas of an nginx demo image on port 80, host demo.ingress.top, path /.
//
// Run on its own:  npx ts-node --project tsconfig.dev.json examples/alibaba-alb-tea.ts
import { App, Chart, ChartProps, Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { GracefulWebService, LoadBalancer, StopSignal } from '../src';

export class AlibabaAlbTeaChart extends Chart {
  public readonly tea: GracefulWebService;

  constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);

    this.tea = new GracefulWebService(this, 'tea', {
      // Stable names: deployment/tea, service/tea, ... and selectors on app.kubernetes.io/name.
      name: 'tea',
      image: 'registry.cn-hangzhou.aliyuncs.com/acs-sample/nginxdemos:latest',
      port: 80,
      replicas: 3,
      host: 'demo.ingress.top',
      path: '/',
      loadBalancer: LoadBalancer.alibabaAlb(),
      // nginx drains on SIGQUIT (its graceful shutdown) and cuts requests on SIGTERM (its fast
      // shutdown). Images built on the official nginx image declare STOPSIGNAL SIGQUIT, so that is
      // the signal the container runtime sends, and drainsOnStopSignal: true (the default) holds.
      // Check your image: `docker image inspect --format '{{.Config.StopSignal}}' <image>` must
      // print SIGQUIT; if it prints nothing, the runtime sends SIGTERM: declare
      // drainsOnStopSignal: false (or set the STOPSIGNAL). Measured: docs/benchmarks.md (Real servers).
      // nginx finishes in-flight requests well within the Kubernetes default of 30 s.
      shutdown: { stopSignal: StopSignal.SIGQUIT, drainsOnStopSignal: true, drainTimeout: Duration.seconds(30) },

      // The image runs nginx's master process as root to bind port 80, so the non-root
      // requirement that cdk8s-plus sets by default is lifted for this pod. The root
      // filesystem stays read-only; nginx gets writable cache and pid directories.
      runAsRoot: true,
      writablePaths: ['/var/cache/nginx', '/var/run'],
      resources: {
        cpu: { request: Cpu.millis(100), limit: Cpu.millis(500) },
        memory: { request: Size.mebibytes(64), limit: Size.mebibytes(128) },
      },
    });
  }
}

if (require.main === module) {
  const app = new App({ outdir: 'dist/examples' });
  const chart = new AlibabaAlbTeaChart(app, 'alibaba-alb-tea');
  app.synth();
  console.log(chart.tea.budget.describe());
}
