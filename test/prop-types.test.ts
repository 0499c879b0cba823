// Runtime type checks of the props (src/prop-types.ts), for plain JavaScript, config files and
// other jsii languages. The table must cover every prop of every props interface: the TypeScript
// compiler reads the interfaces, and a prop without a row (or a row whose type differs) fails here.
import * as path from 'path';
import { Chart, Duration, Testing } from 'cdk8s';
import * as ts from 'typescript';
import { GracefulWebService, LoadBalancer, ShutdownBudget } from '../src';
import { baseProps } from './util';
import { checkPropTypes, describeValue, PROP_TABLES } from '../src/prop-types';

/** Exported interfaces that are not user input: what providers receive or return, and behaviour. */
const NOT_INPUT: { [name: string]: string } = {
  ILoadBalancer: 'a behavioural interface, checked by shape where it is a prop (loadBalancer)',
  HealthCheckSettings: 'resolved settings the construct hands to providers',
  LoadBalancerBindOptions: 'what the construct passes to ILoadBalancer.bind',
  LoadBalancerLaunch: 'what a provider returns from launch',
  LoadBalancerConfig: 'what a provider returns from bind',
};

/** Whether a symbol has a flag (symbol flags are a bit set). */
function has(flags: number, flag: number): boolean {
  // eslint-disable-next-line no-bitwise
  return (flags & flag) !== 0;
}

interface DeclaredProp {
  readonly name: string;
  readonly type: string;
  readonly optional: boolean;
}

/** Every interface exported from src/index.ts, with its props as declared. */
function exportedInterfaces(): Map<string, DeclaredProp[]> {
  const index = path.join(__dirname, '..', 'src', 'index.ts');
  const program = ts.createProgram([index], { strict: true, skipLibCheck: true, noEmit: true });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(index)!)!;
  const result = new Map<string, DeclaredProp[]>();
  for (const exported of checker.getExportsOfModule(module)) {
    const symbol = has(exported.flags, ts.SymbolFlags.Alias) ? checker.getAliasedSymbol(exported) : exported;
    if (!has(symbol.flags, ts.SymbolFlags.Interface)) continue;
    const props = checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol)).map((p) => {
      const declaration = p.valueDeclaration as ts.PropertySignature | ts.MethodSignature;
      return {
        name: p.name,
        type: (declaration.type?.getText() ?? '?').replace(/\s+/g, ' '),
        optional: has(p.flags, ts.SymbolFlags.Optional),
      };
    });
    result.set(symbol.name, props);
  }
  return result;
}

describe('the type table covers every prop', () => {
  const interfaces = exportedInterfaces();

  test('every exported interface is user input with a table, or listed as not input', () => {
    expect(interfaces.size).toBeGreaterThanOrEqual(12);
    const uncovered = [...interfaces.keys()].filter((name) => !(name in PROP_TABLES) && !(name in NOT_INPUT));
    expect(uncovered).toEqual([]);
    expect(Object.keys(PROP_TABLES).filter((name) => !interfaces.has(name))).toEqual([]);
  });

  test.each(Object.keys(PROP_TABLES))('%s: one row per prop, with the declared type and optionality', (name) => {
    const table = (PROP_TABLES as any)[name];
    const declared = interfaces.get(name)!;
    expect(Object.keys(table).sort()).toEqual(declared.map((p) => p.name).sort());
    for (const prop of declared) {
      expect({ prop: prop.name, type: table[prop.name].type.ts, optional: !table[prop.name].required })
        .toEqual({ prop: prop.name, type: prop.type, optional: prop.optional });
    }
  });
});

describe('mistyped values', () => {
  const build = (props: any) => new GracefulWebService(new Chart(Testing.app(), 'shop'), 'web', props);

  test('the issue\'s two: a number for a Duration, a string for a number', () => {
    expect(() => build(baseProps({ shutdown: { drainTimeout: 30 as any } })))
      .toThrow('shop/web: shutdown.drainTimeout must be a Duration (e.g. Duration.seconds(30)), got number 30');
    expect(() => build(baseProps({ port: '8080' as any })))
      .toThrow('shop/web: port must be a number, got string \'8080\'');
  });

  test('every problem is listed, nested paths and elements included', () => {
    expect(() => build(baseProps({
      replicas: '3' as any,
      healthCheck: { interval: '5s' as any },
      preStopCommand: ['nginx', 3 as any],
      labels: { team: true as any },
      preStopAction: 'sleep' as any,
    }))).toThrow(
      'shop/web: replicas must be a number, got string \'3\'; healthCheck.interval must be a Duration (e.g. Duration.seconds(30)), got string \'5s\'; '
      + 'preStopAction must be one of PreStopAction.EXEC_SLEEP, PreStopAction.SLEEP_ACTION, got string \'sleep\'; '
      + 'preStopCommand[1] must be a string, got number 3; labels["team"] must be a string, got boolean true',
    );
  });

  test('a missing required prop, a misspelt prop, props that are not an object', () => {
    expect(() => build({ loadBalancer: LoadBalancer.alibabaAlb() })).toThrow('shop/web: image is required: a string');
    expect(() => build(baseProps({ shutdown: { drainTimout: Duration.seconds(30) } as any })))
      .toThrow('shop/web: shutdown.drainTimout is not a prop (did you mean shutdown.drainTimeout?)');
    expect(() => build(undefined)).toThrow('shop/web: the props must be an object (GracefulWebServiceProps), got undefined');
    expect(() => build(baseProps({ loadBalancer: 'alb' as any })))
      .toThrow('shop/web: loadBalancer must be a load balancer (e.g. LoadBalancer.alibabaAlb()), got string \'alb\'');
  });

  test('provider props: the factory defers the error to the service, which names its path', () => {
    expect(() => build(baseProps({ loadBalancer: LoadBalancer.awsAlb({ slowStartDuration: 60 as any }) })))
      .toThrow('shop/web: loadBalancer.slowStartDuration must be a Duration (e.g. Duration.seconds(30)), got number 60');
    expect(() => build(baseProps({ loadBalancer: LoadBalancer.tencentClb({ directAccess: 'yes' as any }) })))
      .toThrow('shop/web: loadBalancer.directAccess must be a boolean (true or false), got string \'yes\'');
    expect(() => build(baseProps({ loadBalancer: LoadBalancer.gkeIngress({ connectionDrainingTimeout: null as any }) })))
      .toThrow('shop/web: loadBalancer.connectionDrainingTimeout must be a Duration (e.g. Duration.seconds(30)), got null');
    expect(() => build(baseProps({ loadBalancer: LoadBalancer.alibabaAlb({ ingressClassName: 7 as any }) })))
      .toThrow('shop/web: loadBalancer.ingressClassName must be a string, got number 7');
  });

  test('ShutdownBudget.derive checks its props too', () => {
    expect(() => ShutdownBudget.derive({ deregistrationDelay: Duration.seconds(10), safetyMargin: 0 as any }))
      .toThrow('safetyMargin must be a Duration (e.g. Duration.seconds(30)), got number 0');
  });

  test.each(Object.keys(PROP_TABLES))('%s: every prop refuses a value of another type, naming the prop and the type', (name) => {
    const table = (PROP_TABLES as any)[name];
    for (const [prop, row] of Object.entries<any>(table)) {
      const wrong = row.type.ts === 'number' ? 'x' : 42;
      expect(() => checkPropTypes(name as any, { [prop]: wrong }))
        .toThrow(new RegExp(`(^|; )${prop}(\\[[^\\]]*\\])? must be ${row.type.expected.replace(/[()[\].]/g, '\\$&')}, got ${describeValue(wrong)}`));
    }
  });

  test('values are shown as given', () => {
    expect(describeValue('8080')).toBe('string \'8080\'');
    expect(describeValue(30)).toBe('number 30');
    expect(describeValue(null)).toBe('null');
    expect(describeValue([1, 'a'])).toBe('array [1,"a"]');
    expect(describeValue({ seconds: 30 })).toBe('object {"seconds":30}');
    expect(describeValue(Duration.seconds(1))).toBe('a Duration');
    expect(describeValue('x'.repeat(100))).toBe(`string '${'x'.repeat(57)}...'`);
  });
});
