// Synthesizes every example into dist/examples/<name>.k8s.yaml and prints each shutdown
// timeline. This is what `npm run examples` runs.
import * as path from 'path';
import { App } from 'cdk8s';
import { AlibabaAlbTeaChart } from './alibaba-alb-tea';
import { TencentClbMeetingChart } from './tencent-clb-meeting';

const outdir = path.join('dist', 'examples');
const app = new App({ outdir });
const tea = new AlibabaAlbTeaChart(app, 'alibaba-alb-tea');
const meeting = new TencentClbMeetingChart(app, 'tencent-clb-meeting');
app.synth();

for (const [name, service] of [['alibaba-alb-tea', tea.tea], ['tencent-clb-meeting', meeting.meeting]] as const) {
  console.log(`${path.join(outdir, name)}.k8s.yaml  (${service.loadBalancer.displayName})`);
  console.log(service.budget.describe());
  console.log();
}
