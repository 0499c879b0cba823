// A meeting service on Tencent Cloud TKE behind a CLB Ingress. Meetings hold connections
// for a long time, so the service declares a 50 s drain; with CLB direct access and grace
// shutdown the derived numbers are Tencent's own example (preStop sleep 5, grace 60) with D
// raised to the rehearsal profile's largest lag (10 s) and the 5 s safety margin: preStop sleep
// 15, grace 70.
//
// Run on its own:  npx ts-node --project tsconfig.dev.json examples/tencent-clb-meeting.ts
import { App, Chart, ChartProps, Duration, Size } from 'cdk8s';
import { Cpu } from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { GracefulWebService, LoadBalancer, StopSignal } from '../src';

export class TencentClbMeetingChart extends Chart {
  public readonly meeting: GracefulWebService;

  constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);

    this.meeting = new GracefulWebService(this, 'meeting', {
      // Stable names: deployment/meeting, service/meeting, ... and selectors on app.kubernetes.io/name.
      name: 'meeting',
      // nginx built to run as an unprivileged user (UID 101) on port 8080: it satisfies
      // cdk8s-plus's non-root, read-only defaults once /tmp (pid and temp files) is writable.
      image: 'nginxinc/nginx-unprivileged:1.27-alpine',
      port: 8080,
      replicas: 3,
      host: 'meeting.example.com',
      loadBalancer: LoadBalancer.tencentClb({ directAccess: true }),
      // The image declares STOPSIGNAL SIGQUIT (as the official nginx images do): nginx's graceful
      // shutdown, which finishes in-flight requests. On SIGTERM, its fast shutdown, nginx would cut
      // them, and drainsOnStopSignal would have to be false. Measured: docs/benchmarks.md (Real servers).
      shutdown: { stopSignal: StopSignal.SIGQUIT, drainsOnStopSignal: true, drainTimeout: Duration.seconds(50) },
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
  const chart = new TencentClbMeetingChart(app, 'tencent-clb-meeting');
  app.synth();
  console.log(chart.meeting.budget.describe());
}
