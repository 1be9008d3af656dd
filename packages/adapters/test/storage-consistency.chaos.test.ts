/**
 * Chaos run (issue 5): 1,000 uploads and 300 deletes through the recipes on real Postgres and
 * s3rver, with 10% of storage calls (put, delete) and of database calls (insert, soft delete,
 * restore) failing at random, before or after they take effect; then one reconciliation pass,
 * after which the invariant must hold: every active row has its object, no object lacks a live
 * row, no deleted row keeps its object, no retired document keeps live chunks.
 *
 * Faults are decided by a hash of (seed, method, storage key, attempt), not by call order, so a
 * failing seed replays exactly despite the concurrency: BALLAST_CHAOS_SEED=<seed> pnpm vitest
 * run packages/adapters/test/storage-consistency.chaos.test.ts
 */
import {
  BallastError,
  markThenDelete,
  type ObjectStorage,
  reconcile,
  uploadThenRecord,
} from '@ballast/core';
import { type FaultPlan, type InjectedCall, injectFaults } from '@ballast/core/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  bucketKeys,
  consistencyViolations,
  type DocumentsWorld,
  openDocumentsWorld,
  openS3World,
  type S3World,
} from './support/documents-world.js';
import { describeWith } from './support/services.js';

const seed = Number(process.env.BALLAST_CHAOS_SEED ?? 20_261_123);
const uploads = 1_000;
const deletes = 300;
const faultRate = 0.1;
const concurrency = 16;

/** 32-bit FNV-1a, then a murmur-style finaliser: a well-spread number in [0, 1). */
function unitHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) / 4_294_967_296;
}

/**
 * Fails `rate` of the calls to `methods`, a third of them after the call took effect; which
 * ones depends only on the seed and the call's identity (method, storage key, attempt).
 */
function chaosPlan(methods: readonly string[], keyOf: (call: InjectedCall) => string): FaultPlan {
  const attempts = new Map<string, number>();
  return (call) => {
    if (!methods.includes(call.method)) return false;
    const identity = `${call.method}|${keyOf(call)}`;
    const attempt = (attempts.get(identity) ?? 0) + 1;
    attempts.set(identity, attempt);
    const base = `${seed}|${identity}|${attempt}`;
    if (unitHash(base) >= faultRate) return false;
    return unitHash(`${base}|phase`) < 1 / 3 ? 'after' : 'before';
  };
}

async function inBatches<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

describeWith('postgres', 'storage–database consistency: chaos run', () => {
  let world: DocumentsWorld;
  let s3: S3World;

  beforeAll(async () => {
    [world, s3] = await Promise.all([openDocumentsWorld('chaos'), openS3World()]);
  });
  afterAll(async () => {
    await Promise.all([world?.close(), s3?.close()]);
  });

  it(`${uploads} uploads and ${deletes} deletes with ${faultRate * 100}% faults, then one reconciliation pass`, async () => {
    const started = performance.now();
    const prefix = `chaos-${seed}/`;
    const keyOfRow = new Map<string, string>();
    const storage = injectFaults<ObjectStorage>(s3.storage, {
      failOn: chaosPlan(['put', 'delete'], (call) => call.key ?? ''),
      error: (call) =>
        new BallastError('STORAGE_UNAVAILABLE', { message: `chaos: ${call.method} ${call.key}` }),
    });
    const records = injectFaults(world.records, {
      failOn: chaosPlan(['insert', 'softDelete', 'restore'], (call) => {
        const [first] = call.args;
        if (call.method === 'insert') return (first as { key: string }).key;
        if (call.method === 'softDelete') return keyOfRow.get(first as string) ?? '';
        return keyOfRow.get((first as { id: string }).id) ?? '';
      }),
      error: (call) => new BallastError('UPSTREAM_ERROR', { message: `chaos: ${call.method}` }),
    });

    const outcomes = { uploaded: 0, uploadFailed: 0, deleted: 0, deleteFailed: 0, critical: 0 };
    const keys = Array.from(
      { length: uploads },
      (_, i) => `${prefix}${String(i).padStart(5, '0')}`,
    );
    const live: Array<{ id: string; key: string }> = [];
    await inBatches(keys, async (key) => {
      try {
        const { row } = await uploadThenRecord({
          storage,
          records,
          key,
          body: `content of ${key}`,
          record: { name: key },
        });
        keyOfRow.set(row.id, key);
        await world.addChunks(row.id, 2);
        live.push({ id: row.id, key });
        outcomes.uploaded++;
      } catch {
        // Expected under chaos: the recipe's documented end states are what is checked below.
        outcomes.uploadFailed++;
      }
    });

    // Delete every (uploaded / deletes)-th document in key order: the same set for a seed.
    live.sort((a, b) => (a.key < b.key ? -1 : 1));
    const step = live.length / deletes;
    const doomed = Array.from({ length: deletes }, (_, i) => live[Math.floor(i * step)]!);
    await inBatches(doomed, async ({ id }) => {
      try {
        await markThenDelete({ storage, records, id });
        outcomes.deleted++;
      } catch (error) {
        if ((error as BallastError).code === 'COMPENSATION_FAILED') outcomes.critical++;
        outcomes.deleteFailed++;
      }
    });

    const before = consistencyViolations(
      await world.documents(prefix),
      await bucketKeys(s3.storage, prefix),
    );
    const report = await reconcile({
      storage: s3.storage,
      records: world.records,
      prefix,
      graceMs: 0,
      concurrency: 8,
    });
    const documents = await world.documents(prefix);
    const stored = await bucketKeys(s3.storage, prefix);
    const violations = consistencyViolations(documents, stored);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const summary = {
      seed,
      seconds,
      injected: storage.faults.injected.length + records.faults.injected.length,
      ...outcomes,
      inconsistentBeforeReconcile: before.length,
      repaired: report.repaired,
      reconcileFailed: report.failed,
    };
    console.info(`[chaos] ${JSON.stringify(summary)}`);

    const replay = `replay with BALLAST_CHAOS_SEED=${seed}`;
    expect(report.failed, replay).toBe(0);
    expect(violations, replay).toEqual([]);
    // Chaos did hit every kind of step, and reconciliation had work to do.
    expect(
      storage.faults.injected.some((f) => f.method === 'put'),
      replay,
    ).toBe(true);
    expect(
      storage.faults.injected.some((f) => f.method === 'delete'),
      replay,
    ).toBe(true);
    expect(
      records.faults.injected.some((f) => f.method === 'insert'),
      replay,
    ).toBe(true);
    expect(
      records.faults.injected.some((f) => f.method === 'softDelete'),
      replay,
    ).toBe(true);
    expect(before.length, replay).toBeGreaterThan(0);
    // An active document keeps the two chunks it got when its upload was acknowledged (an
    // upload whose insert answer was lost, and whose rollback delete failed too, is active with
    // its object but never got chunks); every other document retired its chunks.
    const acknowledged = new Set(live.map((document) => document.key));
    for (const document of documents) {
      const expected = document.status === 'active' && acknowledged.has(document.key) ? 2 : 0;
      expect(document.liveChunks, `${replay}: ${document.key}`).toBe(expected);
    }
    expect(documents.length + outcomes.uploadFailed, replay).toBeGreaterThanOrEqual(uploads);
  }, 180_000);
});
