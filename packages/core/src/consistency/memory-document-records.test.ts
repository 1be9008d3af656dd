import { describe, expect, it } from 'vitest';
import { MemoryDocumentRecords } from './memory-document-records.js';

const ctx = { traceId: 't', now: 1000 };

describe('MemoryDocumentRecords', () => {
  it('lists rows of every status in (key, id) order, paged with an exclusive cursor and a prefix', async () => {
    let n = 0;
    const records = new MemoryDocumentRecords({ generateId: () => `id${++n}` });
    for (const key of ['b', 'a', 'c/1', 'a', 'c/2']) {
      await records.insert({ key, status: 'active', data: null }, ctx);
    }
    const first = await records.listByKey({ limit: 2 }, ctx);
    expect(first.map((r) => [r.key, r.id])).toEqual([
      ['a', 'id2'],
      ['a', 'id4'],
    ]);
    const second = await records.listByKey({ limit: 2, after: { key: 'a', id: 'id2' } }, ctx);
    expect(second.map((r) => r.id)).toEqual(['id4', 'id1']);
    const prefixed = await records.listByKey({ limit: 10, prefix: 'c/' }, ctx);
    expect(prefixed.map((r) => r.key)).toEqual(['c/1', 'c/2']);
    expect(
      await records.listByKey({ limit: 10, prefix: 'c/', after: { key: 'c/2', id: 'id5' } }, ctx),
    ).toEqual([]);
  });

  it('moves statuses only from the states the port allows', async () => {
    const records = new MemoryDocumentRecords();
    const pending = await records.insert(
      { key: 'p', status: 'pending', data: null, expiresAt: 5 },
      ctx,
    );
    expect(await records.softDelete(pending.id, ctx)).toBeUndefined();
    expect(await records.markError(pending.id, 'x', ctx)).toBe(false);
    const object = { key: 'p', size: 1, lastModified: 0 };
    expect(await records.markUploaded(pending.id, object, { ...ctx, now: 2000 })).toMatchObject({
      status: 'active',
      updatedAt: 2000,
      expiresAt: undefined,
    });
    expect(await records.expirePending(pending.id, ctx)).toBe(false);
    expect(await records.markUploaded('unknown', object, ctx)).toBeUndefined();
  });

  it('restores exactly what one soft delete changed', async () => {
    const records = new MemoryDocumentRecords();
    const row = await records.insert({ key: 'k', status: 'active', data: null }, ctx);
    records.addDependants(row.id, 2);
    records.addDependants(row.id, 1, 'deleted');
    const deleted = await records.softDelete(row.id, { ...ctx, now: 5000 });
    expect(deleted?.key).toBe('k');
    expect(records.get(row.id)).toMatchObject({ status: 'deleted', updatedAt: 5000 });
    await records.restore(deleted!.restoreToken, ctx);
    expect(records.get(row.id)).toMatchObject({ status: 'active', updatedAt: 1000 });
    expect(records.dependantsOf(row.id).map((d) => d.status)).toEqual([
      'active',
      'active',
      'deleted',
    ]);
    await expect(records.restore({ nope: true }, ctx)).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    });
  });
});
