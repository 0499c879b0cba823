import { ApiObject, Chart } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';

// Object names are unique per kind and namespace in a cluster, not per cdk8s chart: two charts of
// one app that both emit a Service `api` in namespace `prod` make `kubectl apply` of the app
// overwrite the first with the second. The construct refuses a name twice in one chart as it is
// built; across charts the check runs when the app synthesizes (names and namespaces can still
// change until then), over every object of the app, and reports each clash that involves an
// object of a GracefulWebService, with both construct paths.

/** The services registered per app root, and whether the root already has the validation. */
const SERVICES = new WeakMap<IConstruct, Set<Construct>>();

/**
 * Registers a service for the app-wide name check. The first registration in an app adds one
 * validation to the app's root construct, which cdk8s runs on `app.synth()`.
 */
export function checkNamesAppWide(service: Construct): void {
  const root = service.node.root;
  let services = SERVICES.get(root);
  if (services === undefined) {
    services = new Set();
    SERVICES.set(root, services);
    const registered = services;
    root.node.addValidation({ validate: () => duplicateNames(root, registered) });
  }
  services.add(service);
}

/** One error per clash between objects of the same kind, namespace and name. */
export function duplicateNames(root: IConstruct, services: ReadonlySet<Construct>): string[] {
  const ours = (o: ApiObject) => [...services].some((s) => o.node.path.startsWith(`${s.node.path}/`));
  const seen = new Map<string, ApiObject>();
  const errors: string[] = [];
  for (const object of root.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject)) {
    const metadata = object.toJson().metadata ?? {};
    if (metadata.name === undefined) continue;
    const namespace: string | undefined = metadata.namespace;
    const key = JSON.stringify([object.kind, namespace ?? null, metadata.name]);
    const first = seen.get(key);
    if (first === undefined) {
      seen.set(key, object);
      continue;
    }
    if (!ours(first) && !ours(object)) continue;
    const where = namespace === undefined ? 'with no namespace (both land in the namespace kubectl applies to)' : `in namespace "${namespace}"`;
    errors.push(
      `${object.kind} "${metadata.name}" ${where} is emitted twice in one app: by ${constructPath(first)} (chart ${chartPath(first)}) `
      + `and by ${constructPath(object)} (chart ${chartPath(object)}); applying the app would overwrite the first with the second. `
      + 'Give the services different names, or the charts different namespaces',
    );
  }
  return errors;
}

/** The path of the construct that made the object (cdk8s-plus keeps its ApiObject as a child `Resource`). */
function constructPath(object: ApiObject): string {
  return object.node.id === 'Resource' && object.node.scope !== undefined ? object.node.scope.node.path : object.node.path;
}

function chartPath(object: ApiObject): string {
  return Chart.of(object).node.path;
}
