import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergeFields } from './merge-fields.js';

const fieldNames = ['title', 'body', 'status', 'tags', 'price'] as const;
const value = fc.oneof(
  fc.string({ maxLength: 4 }),
  fc.integer({ min: -3, max: 3 }),
  fc.boolean(),
  fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 2 }),
  fc.record({ n: fc.integer({ min: 0, max: 2 }) }),
);
const record = fc.dictionary(fc.constantFrom(...fieldNames), value);

describe('mergeFields', () => {
  it('merges edits to different fields, keeping both', () => {
    const result = mergeFields(
      { title: 'a', body: 'b', status: 'draft' },
      { title: 'A', body: 'b', status: 'draft' },
      { title: 'a', body: 'b', status: 'published' },
    );
    expect(result).toEqual({ ok: true, merged: { title: 'A', body: 'b', status: 'published' } });
  });

  it('reports a field both sides changed differently, applying everything else and keeping theirs', () => {
    const result = mergeFields(
      { title: 'a', body: 'b', price: 1 },
      { title: 'mine', body: 'B', price: 1 },
      { title: 'theirs', body: 'b', price: 2 },
    );
    expect(result).toEqual({
      ok: false,
      conflicts: ['title'],
      merged: { title: 'theirs', body: 'B', price: 2 },
    });
  });

  it('resolves conflicts by last-write-wins only when asked', () => {
    const base = { title: 'a' };
    expect(mergeFields(base, { title: 'm' }, { title: 't' }, { onConflict: 'mine' })).toEqual({
      ok: true,
      merged: { title: 'm' },
    });
    expect(mergeFields(base, { title: 'm' }, { title: 't' }, { onConflict: 'theirs' })).toEqual({
      ok: true,
      merged: { title: 't' },
    });
  });

  it('treats a removed field as a change and an identical change as no conflict', () => {
    expect(mergeFields({ a: 1, b: 2 }, { b: 2 }, { a: 1, b: 3 })).toEqual({
      ok: true,
      merged: { b: 3 },
    });
    expect(mergeFields({ a: [1] }, { a: [1, 2] }, { a: [1, 2] })).toEqual({
      ok: true,
      merged: { a: [1, 2] },
    });
    expect(mergeFields({ at: new Date(0) }, { at: new Date(0) }, { at: new Date(5) })).toEqual({
      ok: true,
      merged: { at: new Date(5) },
    });
  });

  it('rejects non-objects and unknown options with INVALID_OPTIONS', () => {
    expect(() => mergeFields(null as never, {}, {})).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS', details: { field: 'base' } }),
    );
    expect(() => mergeFields({}, {}, [] as never)).toThrow(
      expect.objectContaining({ details: { field: 'theirs' } }),
    );
    expect(() => mergeFields({}, {}, {}, { onConflict: 'newest' as never })).toThrow(
      expect.objectContaining({ details: { field: 'onConflict' } }),
    );
    expect(() => mergeFields({}, {}, {}, { lww: true } as never)).toThrow(
      expect.objectContaining({ details: { field: 'lww' } }),
    );
  });

  it('property: edits to disjoint fields always merge, carrying each side’s edits', () => {
    // Each field is edited by mine, by theirs, or by nobody; an edit may also remove the field.
    const editor = fc.constantFrom('mine', 'theirs', 'nobody');
    const change = fc.option(value, { nil: undefined });
    fc.assert(
      fc.property(
        record,
        fc.tuple(...fieldNames.map(() => fc.tuple(editor, change))),
        (base, plan) => {
          const mine: Record<string, unknown> = { ...base };
          const theirs: Record<string, unknown> = { ...base };
          plan.forEach(([who, next], index) => {
            const name = fieldNames[index] as string;
            const target = who === 'mine' ? mine : who === 'theirs' ? theirs : undefined;
            if (!target) return;
            if (next === undefined) delete target[name];
            else target[name] = next;
          });
          const result = mergeFields(base, mine, theirs);
          expect(result.ok).toBe(true);
          plan.forEach(([who], index) => {
            const name = fieldNames[index] as string;
            const expected = who === 'mine' ? mine[name] : theirs[name];
            expect(result.merged[name]).toEqual(expected);
            expect(Object.hasOwn(result.merged, name)).toBe(expected !== undefined);
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: two different values written to the same field always conflict on that field', () => {
    fc.assert(
      fc.property(record, fc.constantFrom(...fieldNames), value, value, (base, name, a, b) => {
        fc.pre(JSON.stringify(a) !== JSON.stringify(b));
        fc.pre(JSON.stringify(a) !== JSON.stringify(base[name]));
        fc.pre(JSON.stringify(b) !== JSON.stringify(base[name]));
        const result = mergeFields(base, { ...base, [name]: a }, { ...base, [name]: b });
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.conflicts).toEqual([name]);
      }),
      { numRuns: 300 },
    );
  });

  it('property: swapping mine and theirs gives the same conflicts, and the same merge when there are none', () => {
    fc.assert(
      fc.property(record, record, record, (base, mine, theirs) => {
        const forward = mergeFields(base, mine, theirs);
        const backward = mergeFields(base, theirs, mine);
        expect(forward.ok).toBe(backward.ok);
        if (forward.ok && backward.ok) expect(forward.merged).toEqual(backward.merged);
        if (!forward.ok && !backward.ok) {
          expect([...forward.conflicts].sort()).toEqual([...backward.conflicts].sort());
          // 'mine' one way is 'theirs' the other way.
          expect(mergeFields(base, mine, theirs, { onConflict: 'mine' })).toEqual(
            mergeFields(base, theirs, mine, { onConflict: 'theirs' }),
          );
        }
      }),
      { numRuns: 300 },
    );
  });

  it('property: merging with an unchanged side gives the other side', () => {
    fc.assert(
      fc.property(record, record, (base, mine) => {
        expect(mergeFields(base, mine, base)).toEqual({ ok: true, merged: mine });
        expect(mergeFields(base, base, mine)).toEqual({ ok: true, merged: mine });
      }),
    );
  });
});
