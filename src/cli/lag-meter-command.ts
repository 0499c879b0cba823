/** Command-line wiring of `lag-meter manifest` (the manifest itself is src/measure/meter-manifest.ts). */
import { Command, Option } from 'commander';
import { positive, positiveInt } from './cli-args';
import { lagMeterManifest } from '../measure/meter-manifest';
import { LB_PROFILE_IDS, LbProfileId } from '../rehearse/lb-profiles';

interface ManifestCliOptions {
  provider: LbProfileId;
  host?: string;
  path?: string;
  name?: string;
  namespace?: string;
  wait?: number;
  replicas?: number;
  image?: string;
  port?: number;
}

/** `lag-meter manifest`: the LagMeter construct's YAML on stdout. */
export function configureLagMeterCommand(command: Command, io: { readonly out: (text: string) => void }): Command {
  command.description('The lag meter: a tiny server behind your load balancer that `measure` reads the real deregistration and registration delays from');
  command.command('manifest')
    .description('Write the lag meter\'s manifest (ConfigMap, Deployment, Service, Ingress and the provider\'s objects, as the LagMeter construct emits them) to stdout')
    .addOption(new Option('--provider <provider>', 'the load balancer, with the library\'s defaults for it').choices([...LB_PROFILE_IDS]).makeOptionMandatory())
    .option('--host <host>', 'host name the Ingress routes to the meter (default: every host)')
    .option('--path <path>', 'URL path the Ingress routes to the meter', '/')
    .option('--name <name>', 'name of every object', 'lag-meter')
    .option('--namespace <namespace>', 'namespace of every object (default: none, kubectl\'s current one)')
    .option('--wait <seconds>', 'how long the meter holds its preStop hook: the longest delay it can measure (default 180)', positive)
    .option('--replicas <n>', 'meter pods (default 2)', positiveInt)
    .option('--image <image>', 'image with node 18+ and a UID 1000 user (default node:26-alpine)')
    .option('--port <port>', 'port the meter listens on (default 8080)', positiveInt)
    .action((opts: ManifestCliOptions) => {
      io.out(lagMeterManifest({
        provider: opts.provider,
        host: opts.host,
        path: opts.path,
        name: opts.name,
        namespace: opts.namespace,
        waitSeconds: opts.wait,
        replicas: opts.replicas,
        image: opts.image,
        port: opts.port,
      }));
    });
  return command;
}
