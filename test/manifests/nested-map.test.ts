// The nested maps behind check's indexes answer exactly as one Map keyed by the whole tuple would.
import * as fc from 'fast-check';
import { Map2, Map3, push3, TupleMap } from '../../src/manifests/nested-map';

/** Short strings from a small alphabet, so tuples collide often, "\u0000" included (a joined key's separator). */
const part = fc.string({ unit: fc.constantFrom('a', 'b', '\u0000', ''), maxLength: 3 });
const key = (...parts: unknown[]) => JSON.stringify(parts);

test('Map2 and Map3 (property): get, has and push3 agree with a Map keyed by the tuple', () => {
  fc.assert(fc.property(fc.array(fc.tuple(part, part, part, fc.integer())), fc.array(fc.tuple(part, part, part)), (writes, reads) => {
    const two = new Map2<number>();
    const three = new Map3<number[]>();
    const model2 = new Map<string, number>();
    const model3 = new Map<string, number[]>();
    for (const [a, b, c, v] of writes) {
      two.set(a, b, v);
      model2.set(key(a, b), v);
      push3(three, a, b, c, v);
      model3.set(key(a, b, c), [...(model3.get(key(a, b, c)) ?? []), v]);
    }
    for (const [a, b, c] of [...reads, ...writes.map((w) => [w[0], w[1], w[2]] as const)]) {
      expect(two.get(a, b)).toBe(model2.get(key(a, b)));
      expect(two.has(a, b)).toBe(model2.has(key(a, b)));
      expect(three.get(a, b, c)).toEqual(model3.get(key(a, b, c)));
    }
  }));
});

test('TupleMap (property): keys of numbers, booleans and undefined, compared as Map keys are; size counts entries', () => {
  const value = fc.oneof(fc.integer({ min: -2, max: 2 }), fc.constant(0.5), fc.constant(NaN), fc.boolean(), fc.constant(undefined));
  const tuple = fc.array(value, { minLength: 3, maxLength: 3 });
  fc.assert(fc.property(fc.array(fc.tuple(tuple, fc.integer())), fc.array(tuple), (writes, reads) => {
    const map = new TupleMap<number>();
    const model = new Map<string, number>();
    // String(undefined) and String(NaN) are distinct; -0 and 0 are one Map key, as here.
    const id = (t: unknown[]) => t.map((x) => (Object.is(x, -0) ? '0' : String(x))).join('|');
    for (const [t, v] of writes) {
      map.set(t, v);
      model.set(id(t), v);
    }
    expect(map.size).toBe(model.size);
    for (const t of [...reads, ...writes.map(([w]) => w)]) expect(map.get(t)).toBe(model.get(id(t)));
    map.clear();
    expect(map.size).toBe(0);
    for (const [t] of writes) expect(map.get(t)).toBeUndefined();
  }));
});
