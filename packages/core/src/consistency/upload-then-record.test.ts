import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/manual-clock.js';
import { isBallastError } from '../errors/ballast-error.js';
import type { Logger } from '../logging/logger.js';
import { reconcile } from '../reconcile/reconcile.js';
import { sagaFailureOf } from '../saga/saga-failure.js';
import { MemoryObjectStorage } from '../storage/memory-object-storage.js';
import { failOnCall, injectFaults } from '../testing/inject-faults.js';
import { MemoryDocumentRecords } from './memory-document-records.js';
import { uploadThenRecord } from './upload-then-record.js';

const hour = 3_600_000;

function setup() {
  const clock = new ManualClock(Date.UTC(2025, 0, 1));
  const storage = injectFaults(new MemoryObjectStorage({ clock }));
  const records = injectFaults(new MemoryDocumentRecords<{ title: string }>());
  const lines: Array<{ level: string; message?: string; fields: Record<string, unknown> }> = [];
  const logger: Logger = {
    debug: () => {},
    info: (fields, message) => lines.push({ level: 'info', fields, message }),
    warn: (fields, message) => lines.push({ level: 'warn', fields, message }),
    error: (fields, message) => lines.push({ level: 'error', fields, message }),
  };
  const upload = () =>
    uploadThenRecord({
      storage,
      records,
      clock,
      logger,
      traceId: 'trace-up',
      key: 'documents/deed.pdf',
      body: 'pdf bytes',
      contentType: 'application/pdf',
      record: { title: 'Deed' },
    });
  const state = () => ({
    objects: storage.keys(),
    rows: records.rows().map((r) => ({ key: r.key, status: r.status })),
  });
  return { clock, storage, records, logger, lines, upload, state };
}

describe('uploadThenRecord()', () => {
  it('stores the object, then inserts an active row describing it', async () => {
    const { upload, state, records, storage } = setup();
    const { row, object } = await upload();
    expect(object).toMatchObject({
      key: 'documents/deed.pdf',
      size: 9,
      contentType: 'application/pdf',
    });
    expect(row).toMatchObject({
      key: 'documents/deed.pdf',
      status: 'active',
      data: { title: 'Deed' },
    });
    expect(row.object).toEqual(object);
    expect(state()).toEqual({
      objects: ['documents/deed.pdf'],
      rows: [{ key: 'documents/deed.pdf', status: 'active' }],
    });
    expect([storage.faults.calls('put'), records.faults.calls('insert')]).toEqual([1, 1]);
    expect(storage.faults.calls('delete')).toBe(0);
  });

  it('storage put fails: no row is inserted, nothing is stored, the put error propagates', async () => {
    const { upload, state, storage, records } = setup();
    storage.faults.setFailOn(failOnCall('put'));
    const error = await upload().catch((e: unknown) => e);
    expect((error as Error).message).toBe('Injected fault: put call #1 (before)');
    expect(isBallastError(error, 'UPSTREAM_ERROR')).toBe(true);
    expect(records.faults.calls('insert')).toBe(0);
    expect(state()).toEqual({ objects: [], rows: [] });
  });

  it('DB insert fails: the object is deleted again and the insert error propagates', async () => {
    const { upload, state, records, storage } = setup();
    records.faults.setFailOn(failOnCall('insert'));
    const error = await upload().catch((e: unknown) => e);
    expect((error as Error).message).toBe('Injected fault: insert call #1 (before)');
    expect(sagaFailureOf(error)).toMatchObject({
      saga: 'uploadThenRecord',
      failedStep: 'row',
      compensated: ['object'],
      compensationFailures: [],
    });
    expect(storage.faults.calls('delete')).toBe(1);
    expect(state()).toEqual({ objects: [], rows: [] });
  });

  it('DB insert fails and the rollback delete fails: logged, the insert error still propagates, the orphan goes at reconciliation', async () => {
    const { upload, state, records, storage, lines, clock } = setup();
    records.faults.setFailOn(failOnCall('insert'));
    storage.faults.setFailOn(failOnCall('delete'));
    const error = await upload().catch((e: unknown) => e);
    expect((error as Error).message).toBe('Injected fault: insert call #1 (before)');
    const failure = sagaFailureOf(error);
    expect(failure?.compensationFailures.map((f) => f.step)).toEqual(['object']);
    expect((failure!.compensationFailures[0]!.error as Error).message).toBe(
      'Injected fault: delete call #1 (before)',
    );
    expect(lines.filter((l) => l.level === 'error').map((l) => l.fields.step)).toEqual(['object']);
    expect(state()).toEqual({ objects: ['documents/deed.pdf'], rows: [] });

    // Within the grace period the orphan may be an upload in progress: left alone.
    expect((await reconcile({ storage, records, clock })).found.orphanObject).toBe(0);
    await clock.advance(hour);
    const report = await reconcile({ storage, records, clock });
    expect(report.repaired.orphanObject).toBe(1);
    expect(state()).toEqual({ objects: [], rows: [] });
  });

  it('storage put stored the object but its answer was lost: no row, orphan removed by reconciliation', async () => {
    const { upload, state, storage, records, clock } = setup();
    storage.faults.setFailOn(failOnCall('put', 1, 'after'));
    await expect(upload()).rejects.toThrow('Injected fault: put call #1 (after)');
    expect(state()).toEqual({ objects: ['documents/deed.pdf'], rows: [] });
    await clock.advance(hour);
    await reconcile({ storage, records, clock });
    expect(state()).toEqual({ objects: [], rows: [] });
  });

  it('DB insert committed but its answer was lost: the rollback deletes the object, reconciliation marks the row ERROR', async () => {
    const { upload, state, storage, records, clock } = setup();
    records.faults.setFailOn(failOnCall('insert', 1, 'after'));
    await expect(upload()).rejects.toThrow('(after)');
    expect(state()).toEqual({
      objects: [],
      rows: [{ key: 'documents/deed.pdf', status: 'active' }],
    });
    const report = await reconcile({ storage, records, clock });
    expect(report.repaired.missingObject).toBe(1);
    expect(state()).toEqual({
      objects: [],
      rows: [{ key: 'documents/deed.pdf', status: 'error' }],
    });
  });

  it('stores a streamed body', async () => {
    const { storage, records, clock } = setup();
    const body = new Blob(['streamed ', 'content']).stream();
    const { object } = await uploadThenRecord({
      storage,
      records,
      clock,
      key: 'k',
      body,
      contentLength: 16,
      record: { title: 's' },
    });
    expect(object.size).toBe(16);
  });

  it('rejects bad options with INVALID_OPTIONS before touching storage', async () => {
    const { storage, records } = setup();
    for (const [field, bad] of [
      ['key', { key: '' }],
      ['storage', { storage: {} }],
      ['records', { records: { insert: 1 } }],
      ['body', { body: 42 }],
    ] as const) {
      await expect(
        uploadThenRecord({
          storage,
          records,
          key: 'k',
          body: 'x',
          record: { title: 't' },
          ...(bad as object),
        }),
      ).rejects.toMatchObject({ code: 'INVALID_OPTIONS', details: { field } });
    }
    expect(storage.faults.calls()).toBe(0);
  });
});
