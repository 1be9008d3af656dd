import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/manual-clock.js';
import { MemoryDocumentRecords } from '../consistency/memory-document-records.js';
import { BallastError } from '../errors/ballast-error.js';
import type { Logger } from '../logging/logger.js';
import { MemoryObjectStorage } from '../storage/memory-object-storage.js';
import { failOnCall, injectFaults } from '../testing/inject-faults.js';
import { type ReconcileReport, reconcile } from './reconcile.js';

const hour = 3_600_000;

/** 30 orphans (three pages of 10), old enough to delete, and a logger that keeps warnings. */
async function bucketOfOrphans() {
  const clock = new ManualClock(Date.UTC(2025, 0, 1));
  const storage = injectFaults(new MemoryObjectStorage({ clock }));
  const records = injectFaults(new MemoryDocumentRecords());
  for (let i = 0; i < 30; i++) await storage.put(`o/${String(i).padStart(2, '0')}`, 'x');
  await clock.advance(2 * hour);
  const warnings: string[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    error() {},
    warn: (_, m = '') => m.includes('page failed') && warnings.push(m),
  };
  return { clock, storage, records, logger, warnings };
}

/** Runs the pass to its end, moving the manual clock through the backoff sleeps. */
async function settle(clock: ManualClock, pass: Promise<ReconcileReport>) {
  let settled = false;
  pass.then(
    () => (settled = true),
    () => (settled = true),
  );
  let waitedMs = 0;
  while (!settled) {
    await clock.advance(500);
    waitedMs += 500;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { pass, waitedMs };
}

describe('reconcile(): listing pages that fail', () => {
  it('reads a storage page again after a retryable failure and finishes the pass', async () => {
    const { clock, storage, records, logger, warnings } = await bucketOfOrphans();
    storage.faults.setFailOn(failOnCall('list', 2)); // UPSTREAM_ERROR: retryable
    const { pass, waitedMs } = await settle(
      clock,
      reconcile({ storage, records, clock, logger, batchSize: 10 }),
    );
    const report = await pass;
    expect(report.repaired.orphanObject).toBe(30);
    expect(storage.keys()).toEqual([]);
    expect(storage.faults.injected).toHaveLength(1);
    expect(warnings).toEqual([
      expect.stringMatching(/^reconcile: reading a storage page failed; retrying in \d+ ms$/),
    ]);
    expect(waitedMs).toBeGreaterThanOrEqual(500); // the 'read' preset's first wait, jittered
  });

  it('reads a records page again after a dropped connection', async () => {
    const { clock, storage, records, logger, warnings } = await bucketOfOrphans();
    const dropped = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    const failing = injectFaults(records, {
      failOn: failOnCall('listByKey', 1),
      error: () => dropped,
    });
    const { pass } = await settle(clock, reconcile({ storage, records: failing, clock, logger }));
    expect((await pass).repaired.orphanObject).toBe(30);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('records page');
  });

  it('gives up after listRetries retries and rejects with the last error, keeping repairs done', async () => {
    const { clock, storage, records, logger, warnings } = await bucketOfOrphans();
    storage.faults.setFailOn((call) => call.method === 'list' && call.n >= 2);
    const { pass } = await settle(
      clock,
      reconcile({ storage, records, clock, logger, batchSize: 10, listRetries: 2 }),
    );
    await expect(pass).rejects.toMatchObject({ code: 'UPSTREAM_ERROR' });
    expect(storage.faults.calls('list')).toBe(4); // the first page, then 1 + 2 retries
    expect(warnings).toHaveLength(2);
    expect(storage.keys()).toHaveLength(20); // the first page's orphans stay deleted
  });

  it('does not retry a failure that is not retryable (access denied, a missing table)', async () => {
    const { clock, storage, records } = await bucketOfOrphans();
    const denied = injectFaults(storage, {
      failOn: failOnCall('list', 1),
      error: () => new BallastError('STORAGE_UNAVAILABLE', { retryable: false }),
    });
    await expect(reconcile({ storage: denied, records, clock })).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
    });
    expect(denied.faults.calls('list')).toBe(1);
  });

  it('stops waiting for a retry when the signal aborts, and reports the pass as aborted', async () => {
    const { clock, storage, records } = await bucketOfOrphans();
    storage.faults.setFailOn((call) => call.method === 'list' && call.n >= 2);
    const controller = new AbortController();
    const pass = reconcile({ storage, records, clock, batchSize: 10, signal: controller.signal });
    while (storage.faults.calls('list') < 2) await new Promise((r) => setImmediate(r));
    controller.abort();
    const report = await pass;
    expect(report.aborted).toBe(true);
    expect(storage.faults.calls('list')).toBe(2);
  });

  it('rejects a listRetries outside 0..10 with INVALID_OPTIONS naming it', async () => {
    const { storage, records } = await bucketOfOrphans();
    for (const listRetries of [-1, 11, 1.5, '3'])
      await expect(
        reconcile({ storage, records, listRetries: listRetries as number }),
      ).rejects.toMatchObject({
        code: 'INVALID_OPTIONS',
        message: expect.stringContaining('listRetries'),
      });
  });
});
