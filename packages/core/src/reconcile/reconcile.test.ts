import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/manual-clock.js';
import { MemoryDocumentRecords } from '../consistency/memory-document-records.js';
import type { Logger } from '../logging/logger.js';
import { MemoryObjectStorage } from '../storage/memory-object-storage.js';
import type { ObjectStorage } from '../storage/object-storage.js';
import { failOnCall, injectFaults } from '../testing/inject-faults.js';
import { type ReconcileProgress, reconcile } from './reconcile.js';

const hour = 3_600_000;
const start = Date.UTC(2025, 0, 1);

function world() {
  const clock = new ManualClock(start);
  const storage = injectFaults(new MemoryObjectStorage({ clock }));
  const records = injectFaults(new MemoryDocumentRecords());
  let next = 0;
  const id = () => `row-${String(++next).padStart(6, '0')}`;
  /** An active row with its object, as a successful upload leaves them. */
  const document = async (key: string, chunks = 0) => {
    await storage.put(key, key);
    const row = records.plant({
      id: id(),
      key,
      status: 'active',
      data: {},
      createdAt: clock.now(),
      updatedAt: clock.now(),
    });
    if (chunks > 0) records.addDependants(row.id, chunks);
    return row;
  };
  const row = (
    key: string,
    status: 'active' | 'deleted' | 'pending' | 'error',
    extra: { expiresAt?: number; updatedAt?: number } = {},
  ) =>
    records.plant({
      id: id(),
      key,
      status,
      data: {},
      createdAt: clock.now(),
      updatedAt: extra.updatedAt ?? clock.now(),
      expiresAt: extra.expiresAt,
    });
  const resetCounts = () => {
    storage.faults.reset();
    records.faults.reset();
  };
  return { clock, storage, records, document, row, resetCounts };
}

describe('reconcile()', () => {
  it('finds nothing to do in consistent data and checks every key once', async () => {
    const { storage, records, document, clock } = world();
    for (let i = 0; i < 5; i++) await document(`docs/${i}`, 2);
    const report = await reconcile({ storage, records, clock });
    expect(report).toMatchObject({
      checked: 5,
      rowsChecked: 5,
      objectsChecked: 5,
      found: { missingObject: 0, deletedRowObject: 0, orphanObject: 0, expiredUpload: 0 },
      repaired: { missingObject: 0, deletedRowObject: 0, orphanObject: 0, expiredUpload: 0 },
      failed: 0,
      dryRun: false,
      aborted: false,
      actions: [],
      actionsOmitted: 0,
      startedAt: start,
    });
  });

  it('marks an active row whose object is missing ERROR and soft-deletes its dependants', async () => {
    const { storage, records, document, clock } = world();
    const kept = await document('docs/a', 2);
    const lost = await document('docs/b', 3);
    await storage.delete('docs/b');
    const report = await reconcile({ storage, records, clock });
    expect(report.repaired.missingObject).toBe(1);
    expect(report.actions).toEqual([
      { kind: 'missingObject', key: 'docs/b', rowIds: [lost.id], outcome: 'repaired' },
    ]);
    expect(records.get(lost.id)).toMatchObject({
      status: 'error',
      errorReason: 'object missing in storage',
    });
    expect(records.dependantsOf(lost.id).map((c) => c.status)).toEqual([
      'deleted',
      'deleted',
      'deleted',
    ]);
    expect(records.get(kept.id)?.status).toBe('active');
    expect(records.dependantsOf(kept.id).map((c) => c.status)).toEqual(['active', 'active']);
  });

  it('deletes the object of a deleted row once the deletion is older than the grace period', async () => {
    const { storage, records, row, clock } = world();
    await storage.put('docs/old', 'x');
    row('docs/old', 'deleted', { updatedAt: start - 2 * hour });
    await storage.put('docs/recent', 'x');
    row('docs/recent', 'deleted', { updatedAt: start - 10 * 60_000 });
    const report = await reconcile({ storage, records, clock });
    expect(report.repaired.deletedRowObject).toBe(1);
    expect(storage.keys()).toEqual(['docs/recent']);
  });

  it('deletes objects without any row once older than the grace period', async () => {
    const { storage, records, clock, document } = world();
    await document('docs/a');
    await storage.put('docs/crashed-upload', 'x');
    await clock.advance(30 * 60_000);
    await storage.put('docs/upload-in-progress', 'x');
    await clock.advance(31 * 60_000);
    const report = await reconcile({ storage, records, clock });
    expect(report.repaired.orphanObject).toBe(1);
    expect(storage.keys()).toEqual(['docs/a', 'docs/upload-in-progress']);
    const custom = await reconcile({ storage, records, clock, graceMs: 0 });
    expect(custom.repaired.orphanObject).toBe(1);
    expect(storage.keys()).toEqual(['docs/a']);
  });

  it('expires pending uploads past their deadline and deletes what they uploaded', async () => {
    const { storage, records, row, clock } = world();
    const uploaded = row('up/uploaded', 'pending', { expiresAt: start - 1 });
    await storage.put('up/uploaded', 'x');
    const never = row('up/never', 'pending', { expiresAt: start - 1 });
    const waiting = row('up/waiting', 'pending', { expiresAt: start + hour });
    await storage.put('up/waiting', 'x');
    const report = await reconcile({ storage, records, clock });
    expect(report.repaired.expiredUpload).toBe(2);
    expect(records.get(uploaded.id)?.status).toBe('deleted');
    expect(records.get(never.id)?.status).toBe('deleted');
    expect(records.get(waiting.id)?.status).toBe('pending');
    expect(storage.keys()).toEqual(['up/waiting']);
  });

  it('leaves error rows and keys that a live row still uses alone', async () => {
    const { storage, records, row, clock, document } = world();
    await storage.put('docs/error-with-object', 'x');
    row('docs/error-with-object', 'error', { updatedAt: start - 5 * hour });
    // A re-upload under a key that an old deleted row also names: the object is the live row's.
    row('docs/reused', 'deleted', { updatedAt: start - 5 * hour });
    await document('docs/reused');
    const report = await reconcile({ storage, records, clock });
    expect(report.actions).toEqual([]);
    expect(storage.keys()).toEqual(['docs/error-with-object', 'docs/reused']);
  });

  it('confirms a missing object with HEAD before acting (an upload may land after the listing)', async () => {
    const { storage, records, document, clock } = world();
    const row = await document('docs/late');
    // A listing taken just before the object arrived.
    const staleListing: ObjectStorage = new Proxy(storage, {
      get(target, property) {
        if (property === 'list') return async () => ({ objects: [] });
        return Reflect.get(target, property);
      },
    });
    const report = await reconcile({ storage: staleListing, records, clock });
    expect(report.found.missingObject).toBe(0);
    expect(report.actions).toEqual([
      {
        kind: 'missingObject',
        key: 'docs/late',
        rowIds: [row.id],
        outcome: 'skipped',
        reason: 'object-present',
      },
    ]);
    expect(records.get(row.id)?.status).toBe('active');
    expect(storage.faults.calls('head')).toBe(1);
  });

  it('reports in a dry run what it would repair and changes nothing', async () => {
    const { storage, records, document, row, clock, resetCounts } = world();
    await document('a/missing');
    await storage.delete('a/missing');
    await storage.put('b/orphan', 'x');
    await storage.put('c/deleted', 'x');
    row('c/deleted', 'deleted');
    row('d/expired', 'pending', { expiresAt: start + 1 });
    await clock.advance(2 * hour);
    const before = { objects: storage.keys(), rows: records.rows() };
    resetCounts();
    const lines: string[] = [];
    const logger: Logger = {
      debug() {},
      info() {},
      error() {},
      warn: (_f, m) => lines.push(m ?? ''),
    };
    const report = await reconcile({ storage, records, clock, dryRun: true, logger });
    expect(report.dryRun).toBe(true);
    expect(report.found).toEqual({
      missingObject: 1,
      deletedRowObject: 1,
      orphanObject: 1,
      expiredUpload: 1,
    });
    expect(report.repaired).toEqual({
      missingObject: 0,
      deletedRowObject: 0,
      orphanObject: 0,
      expiredUpload: 0,
    });
    expect(report.actions.map((a) => [a.kind, a.outcome])).toEqual([
      ['missingObject', 'planned'],
      ['orphanObject', 'planned'],
      ['deletedRowObject', 'planned'],
      ['expiredUpload', 'planned'],
    ]);
    expect({ objects: storage.keys(), rows: records.rows() }).toEqual(before);
    expect(
      storage.faults.calls('delete') +
        records.faults.calls('markError') +
        records.faults.calls('expirePending'),
    ).toBe(0);
    expect(lines.filter((l) => l.includes('[dry run] would repair'))).toHaveLength(4);

    const real = await reconcile({ storage, records, clock });
    expect(real.repaired).toEqual({
      missingObject: 1,
      deletedRowObject: 1,
      orphanObject: 1,
      expiredUpload: 1,
    });
    expect(storage.keys()).toEqual([]);
  });

  it('isolates per-item failures: counts and logs them and repairs the rest', async () => {
    const { storage, records, clock } = world();
    for (const key of ['o/1', 'o/2', 'o/3']) await storage.put(key, 'x');
    await clock.advance(2 * hour);
    storage.faults.setFailOn(failOnCall('delete', 2));
    const errors: Array<Record<string, unknown>> = [];
    const logger: Logger = { debug() {}, info() {}, warn() {}, error: (f) => errors.push(f) };
    const report = await reconcile({ storage, records, clock, logger, concurrency: 1 });
    expect(report.failed).toBe(1);
    expect(report.repaired.orphanObject).toBe(2);
    expect(report.found.orphanObject).toBe(3);
    expect(report.actions.map((a) => a.outcome)).toEqual(['repaired', 'failed', 'repaired']);
    expect(report.actions[1]).toMatchObject({ key: 'o/2', reason: 'UPSTREAM_ERROR' });
    expect(
      errors.some((f) => f.audit === 'reconcile' && f.key === 'o/2' && f.outcome === 'failed'),
    ).toBe(true);
    expect(storage.keys()).toEqual(['o/2']);
    // The next pass picks up what failed.
    storage.faults.setFailOn(undefined);
    expect((await reconcile({ storage, records, clock })).repaired.orphanObject).toBe(1);
    expect(storage.keys()).toEqual([]);
  });

  it('never runs more repairs at once than its concurrency', async () => {
    const clock = new ManualClock(start);
    const inner = new MemoryObjectStorage({ clock });
    for (let i = 0; i < 20; i++) await inner.put(`o/${String(i).padStart(2, '0')}`, 'x');
    await clock.advance(2 * hour);
    let inFlight = 0;
    let peak = 0;
    const slow: ObjectStorage = new Proxy(inner, {
      get(target, property) {
        if (property !== 'delete') return Reflect.get(target, property).bind(target);
        return async (key: string) => {
          inFlight++;
          peak = Math.max(peak, inFlight);
          await new Promise((resolve) => setTimeout(resolve, 2));
          await target.delete(key);
          inFlight--;
        };
      },
    });
    const report = await reconcile({
      storage: slow,
      records: new MemoryDocumentRecords(),
      clock,
      concurrency: 3,
    });
    expect(report.repaired.orphanObject).toBe(20);
    expect(peak).toBe(3);
  });

  it('stops at an aborted signal, finishes repairs in flight and reports aborted', async () => {
    const { storage, records, clock } = world();
    for (let i = 0; i < 50; i++) await storage.put(`o/${String(i).padStart(2, '0')}`, 'x');
    await clock.advance(2 * hour);
    const controller = new AbortController();
    const report = await reconcile({
      storage,
      records,
      clock,
      batchSize: 10,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.checked >= 20) controller.abort();
      },
    });
    expect(report.aborted).toBe(true);
    expect(report.checked).toBe(20);
    expect(report.repaired.orphanObject).toBe(20);
    expect(storage.keys()).toHaveLength(30);
  });

  it('with listRetries 0, rejects at a page that cannot be read, after finishing repairs in flight', async () => {
    const { storage, records, clock } = world();
    for (let i = 0; i < 30; i++) await storage.put(`o/${String(i).padStart(2, '0')}`, 'x');
    await clock.advance(2 * hour);
    storage.faults.setFailOn(failOnCall('list', 2));
    const pass = reconcile({ storage, records, clock, batchSize: 10, listRetries: 0 });
    await expect(pass).rejects.toThrow('Injected fault: list call #2');
    expect(storage.keys()).toHaveLength(20);
  });

  it('only looks under the prefix', async () => {
    const { storage, records, clock, row } = world();
    await storage.put('a/orphan', 'x');
    await storage.put('b/orphan', 'x');
    row('a/missing', 'active');
    row('b/missing', 'active');
    await clock.advance(2 * hour);
    const report = await reconcile({ storage, records, clock, prefix: 'b/' });
    expect(report.checked).toBe(2);
    expect(report.actions.map((a) => a.key)).toEqual(['b/missing', 'b/orphan']);
    expect(storage.keys()).toEqual(['a/orphan']);
  });

  it('joins correctly across page boundaries, duplicate keys and non-ASCII key order', async () => {
    const { storage, records, clock, document, row } = world();
    const keys = ['k/a', 'k/é', 'k/\uFF61', 'k/\u{1F600}', 'k/z', 'k/a-b', 'k/a/b'];
    for (const key of keys) await document(key);
    // Three rows on one key, straddling pages of two.
    row('k/z', 'deleted', { updatedAt: start - 5 * hour });
    row('k/z', 'deleted', { updatedAt: start - 5 * hour });
    const report = await reconcile({ storage, records, clock, batchSize: 2 });
    expect(report).toMatchObject({ checked: 7, rowsChecked: 9, objectsChecked: 7, actions: [] });
  });

  it('keeps at most maxActions actions and counts the rest', async () => {
    const { storage, records, clock } = world();
    for (let i = 0; i < 5; i++) await storage.put(`o/${i}`, 'x');
    await clock.advance(2 * hour);
    const report = await reconcile({ storage, records, clock, maxActions: 2, dryRun: true });
    expect(report.actions).toHaveLength(2);
    expect(report.actionsOmitted).toBe(3);
    expect(report.found.orphanObject).toBe(5);
  });

  it('reports progress every batch and at the end; a throwing callback does not stop the pass', async () => {
    const { storage, records, clock, document } = world();
    for (let i = 0; i < 25; i++) await document(`d/${String(i).padStart(2, '0')}`);
    const seen: ReconcileProgress[] = [];
    const report = await reconcile({
      storage,
      records,
      clock,
      batchSize: 10,
      onProgress: (p) => {
        seen.push(p);
        throw new Error('broken progress bar');
      },
    });
    expect(seen.map((p) => p.checked)).toEqual([10, 20, 25]);
    expect(report.checked).toBe(25);
  });

  it('rejects bad options with INVALID_OPTIONS naming the field', async () => {
    const { storage, records } = world();
    for (const [field, bad] of [
      ['batchSize', { batchSize: 0 }],
      ['concurrency', { concurrency: 0 }],
      ['graceMs', { graceMs: -1 }],
      ['records', { records: {} }],
    ] as const) {
      await expect(reconcile({ storage, records, ...(bad as object) })).rejects.toMatchObject({
        code: 'INVALID_OPTIONS',
        details: { field },
      });
    }
  });
});

describe('reconcile() at scale', () => {
  /** `count` consistent documents (with chunks every 10th) under `docs/`. */
  async function populate(count: number) {
    const w = world();
    for (let i = 0; i < count; i++) {
      const key = `docs/${String(i).padStart(6, '0')}`;
      await w.storage.put(key, 'x');
      w.records.plant({
        id: `id-${i}`,
        key,
        status: 'active',
        data: {},
        createdAt: start,
        updatedAt: start,
      });
    }
    return w;
  }

  it('uses at most 2 storage requests and 2 DB queries per 1,000 rows checked', async () => {
    const { storage, records, clock, resetCounts } = await populate(10_000);
    resetCounts();
    const report = await reconcile({ storage, records, clock });
    expect(report.rowsChecked).toBe(10_000);
    expect(report.actions).toEqual([]);
    const perThousand = (calls: number) => (calls * 1000) / report.rowsChecked;
    expect(storage.faults.calls()).toBe(10); // 10 list pages of 1,000, no HEAD
    expect(records.faults.calls()).toBe(11); // 10 full pages + the empty one that ends the listing
    expect(perThousand(storage.faults.calls())).toBeLessThanOrEqual(2);
    expect(perThousand(records.faults.calls())).toBeLessThanOrEqual(2);
  });

  it('finds and repairs all of 1% injected inconsistencies in 10,000 rows', async () => {
    const w = await populate(10_000);
    const { storage, records, clock } = w;
    // 100 inconsistencies, 25 of each kind, spread over the key space.
    const missing: string[] = [];
    const deleted: string[] = [];
    const expired: string[] = [];
    for (let n = 0; n < 25; n++) {
      const i = n * 400;
      await storage.delete(`docs/${String(i).padStart(6, '0')}`);
      missing.push(`id-${i}`);
      records.plant({
        ...records.get(`id-${i + 100}`)!,
        status: 'deleted',
        updatedAt: start - 3 * hour,
      });
      deleted.push(`id-${i + 100}`);
      await storage.put(`docs/${String(i + 200).padStart(6, '0')}-orphan`, 'x');
      records.plant({ ...records.get(`id-${i + 300}`)!, status: 'pending', expiresAt: start + 1 });
      expired.push(`id-${i + 300}`);
    }
    records.addDependants('id-0', 4);
    await clock.advance(2 * hour);
    w.resetCounts();

    const report = await reconcile({ storage, records, clock });
    expect(report.found).toEqual({
      missingObject: 25,
      deletedRowObject: 25,
      orphanObject: 25,
      expiredUpload: 25,
    });
    expect(report.repaired).toEqual(report.found);
    expect(report.failed).toBe(0);
    expect(report.rowsChecked).toBe(10_000);
    expect(report.checked).toBe(10_025);
    // Repairs cost requests; listing still costs one per page.
    expect(storage.faults.calls('list')).toBe(10); // 10,000 objects (25 missing, 25 orphans)
    expect(storage.faults.calls('head')).toBe(25);
    expect(records.faults.calls('listByKey')).toBe(11);

    expect(missing.map((id) => records.get(id)?.status)).toEqual(Array(25).fill('error'));
    expect(records.dependantsOf('id-0').map((d) => d.status)).toEqual(Array(4).fill('deleted'));
    expect(expired.map((id) => records.get(id)?.status)).toEqual(Array(25).fill('deleted'));
    // The invariant: every active row has its object, every object has a live row.
    const objects = new Set(storage.keys());
    const rows = records.rows();
    const live = rows.filter((r) => r.status === 'active');
    expect(live).toHaveLength(10_000 - 75); // orphans had no row
    expect(live.every((r) => objects.has(r.key))).toBe(true);
    const liveKeys = new Set(live.map((r) => r.key));
    expect([...objects].every((key) => liveKeys.has(key))).toBe(true);

    const again = await reconcile({ storage, records, clock });
    expect(again.actions).toEqual([]);
  });
});
