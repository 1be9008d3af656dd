import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/manual-clock.js';
import { isBallastError } from '../errors/ballast-error.js';
import { toProblem } from '../errors/problem.js';
import { reconcile } from '../reconcile/reconcile.js';
import { CompensationFailedError, sagaFailureOf } from '../saga/saga-failure.js';
import { MemoryObjectStorage } from '../storage/memory-object-storage.js';
import { failOnCall, injectFaults } from '../testing/inject-faults.js';
import { markThenDelete } from './mark-then-delete.js';
import { MemoryDocumentRecords } from './memory-document-records.js';
import { uploadThenRecord } from './upload-then-record.js';

const hour = 3_600_000;

async function setup() {
  const clock = new ManualClock(Date.UTC(2025, 0, 1));
  const storage = injectFaults(new MemoryObjectStorage({ clock }));
  const records = injectFaults(new MemoryDocumentRecords());
  const { row } = await uploadThenRecord({
    storage,
    records,
    clock,
    key: 'documents/contract.pdf',
    body: 'contract',
    record: {},
  });
  const chunks = records.addDependants(row.id, 3);
  // A chunk deleted before: the restore after a failed delete must not bring it back.
  records.addDependants(row.id, 1, 'deleted');
  storage.faults.reset();
  records.faults.reset();
  const remove = () =>
    markThenDelete({ storage, records, clock, id: row.id, traceId: 'trace-del' });
  const state = () => ({
    objects: storage.keys(),
    row: records.get(row.id)?.status,
    chunks: records.dependantsOf(row.id).map((c) => c.status),
  });
  return { clock, storage, records, row, chunks, remove, state };
}

const live = ['active', 'active', 'active', 'deleted'];

describe('markThenDelete()', () => {
  it('soft-deletes the row and its dependants, then deletes the object', async () => {
    const { remove, state, storage, records } = await setup();
    expect(state()).toEqual({ objects: ['documents/contract.pdf'], row: 'active', chunks: live });
    expect(await remove()).toMatchObject({ key: 'documents/contract.pdf' });
    expect(state()).toEqual({
      objects: [],
      row: 'deleted',
      chunks: ['deleted', 'deleted', 'deleted', 'deleted'],
    });
    expect([
      records.faults.calls('softDelete'),
      storage.faults.calls('delete'),
      records.faults.calls('restore'),
    ]).toEqual([1, 1, 0]);
  });

  it('soft-delete fails: storage is not touched, nothing changes, the DB error propagates', async () => {
    const { remove, state, storage, records } = await setup();
    records.faults.setFailOn(failOnCall('softDelete'));
    await expect(remove()).rejects.toThrow('Injected fault: softDelete call #1 (before)');
    expect(storage.faults.calls('delete')).toBe(0);
    expect(state()).toEqual({ objects: ['documents/contract.pdf'], row: 'active', chunks: live });
  });

  it('storage delete fails: the row and exactly the dependants it deleted are restored, the storage error propagates', async () => {
    const { remove, state, storage } = await setup();
    storage.faults.setFailOn(failOnCall('delete'));
    const error = await remove().catch((e: unknown) => e);
    expect((error as Error).message).toBe('Injected fault: delete call #1 (before)');
    expect(sagaFailureOf(error)).toMatchObject({
      failedStep: 'object',
      compensated: ['row'],
      compensationFailures: [],
    });
    expect(state()).toEqual({ objects: ['documents/contract.pdf'], row: 'active', chunks: live });
  });

  it("storage delete fails and the restore fails: COMPENSATION_FAILED; reconciliation later deletes the deleted row's object", async () => {
    const { remove, state, storage, records, clock } = await setup();
    storage.faults.setFailOn(failOnCall('delete'));
    records.faults.setFailOn(failOnCall('restore'));
    const error = await remove().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompensationFailedError);
    expect(isBallastError(error, 'COMPENSATION_FAILED')).toBe(true);
    const failed = error as CompensationFailedError;
    expect((failed.originalError as Error).message).toBe('Injected fault: delete call #1 (before)');
    expect(failed.cause).toBe(failed.originalError);
    expect((failed.compensationFailures[0]!.error as Error).message).toBe(
      'Injected fault: restore call #1 (before)',
    );
    expect(toProblem(failed).detail).not.toContain('Injected');
    expect(state()).toEqual({
      objects: ['documents/contract.pdf'],
      row: 'deleted',
      chunks: ['deleted', 'deleted', 'deleted', 'deleted'],
    });

    storage.faults.setFailOn(undefined);
    records.faults.setFailOn(undefined);
    // Recently deleted rows may still be restored by a delete in progress: left alone at first.
    expect((await reconcile({ storage, records, clock })).found.deletedRowObject).toBe(0);
    await clock.advance(hour);
    expect((await reconcile({ storage, records, clock })).repaired.deletedRowObject).toBe(1);
    expect(state().objects).toEqual([]);
  });

  it('storage deleted the object but its answer was lost: the row is restored, reconciliation marks it ERROR', async () => {
    const { remove, state, storage, records, clock } = await setup();
    storage.faults.setFailOn(failOnCall('delete', 1, 'after'));
    await expect(remove()).rejects.toThrow('(after)');
    expect(state()).toEqual({ objects: [], row: 'active', chunks: live });
    storage.faults.setFailOn(undefined);
    const report = await reconcile({ storage, records, clock });
    expect(report.repaired.missingObject).toBe(1);
    expect(state()).toEqual({
      objects: [],
      row: 'error',
      chunks: ['deleted', 'deleted', 'deleted', 'deleted'],
    });
  });

  it('throws NOT_FOUND, changing nothing, for an unknown or already deleted row', async () => {
    const { remove, state, storage, records, clock } = await setup();
    await expect(markThenDelete({ storage, records, clock, id: 'nope' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await remove();
    const after = state();
    await expect(remove()).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(state()).toEqual(after);
    expect(storage.faults.calls('delete')).toBe(1);
  });
});
