// Synthesizes every example into dist/examples/<name>.k8s.yaml and prints each shutdown
// timeline. This is what `npm run examples` runs.
import * as path from 'path';
import { App } from 'cdk8s';
import { AlibabaAlbTeaChart } from './alibaba-alb-tea';
import { AwsAlbCheckoutChart } from './aws-alb-checkout';
import { AwsGatewayCheckoutChart } from './aws-gateway-checkout';
import { GkeGatewayStorefrontChart } from './gke-gateway-storefront';
import { GkeStorefrontChart } from './gke-storefront';
import { TencentClbMeetingChart } from './tencent-clb-meeting';

const outdir = path.join('dist', 'examples');
const app = new App({ outdir });
const tea = new AlibabaAlbTeaChart(app, 'alibaba-alb-tea');
const meeting = new TencentClbMeetingChart(app, 'tencent-clb-meeting');
const checkout = new AwsAlbCheckoutChart(app, 'aws-alb-checkout');
const storefront = new GkeStorefrontChart(app, 'gke-storefront');
// The same two services through the Gateway API (an HTTPRoute and the vendor policies).
const checkoutGateway = new AwsGatewayCheckoutChart(app, 'aws-gateway-checkout');
const storefrontGateway = new GkeGatewayStorefrontChart(app, 'gke-gateway-storefront');
app.synth();

for (const [name, service] of [
  ['alibaba-alb-tea', tea.tea],
  ['tencent-clb-meeting', meeting.meeting],
  ['aws-alb-checkout', checkout.checkout],
  ['gke-storefront', storefront.storefront],
  ['aws-gateway-checkout', checkoutGateway.checkout],
  ['gke-gateway-storefront', storefrontGateway.storefront],
] as const) {
  console.log(`${path.join(outdir, name)}.k8s.yaml  (${service.loadBalancer.displayName}${service.httpRoute ? ', Gateway API HTTPRoute' : ''})`);
  console.log(service.budget.describe());
  console.log();
}
