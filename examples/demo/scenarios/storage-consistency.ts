/**
 * Seed 001: storage and database stay consistent whatever fails. An upload whose row insert
 * fails leaves no object behind; a delete whose storage call fails puts the row back; and a
 * reconciliation pass finds what crashes left (an orphan object, a row whose object vanished),
 * first as a dry run, then repairing it.
 */
import {
  ManualClock,
  MemoryDocumentRecords,
  MemoryObjectStorage,
  markThenDelete,
  reconcile,
  sagaFailureOf,
  uploadThenRecord,
} from '@ballast/core';
import { failOnCall, injectFaults } from '@ballast/core/testing';
import type { DemoScenario } from '../scenario.js';

const scenario: DemoScenario = {
  title: 'Storage and database stay consistent: rollback, restore, reconciliation',
  order: 30,
  async run(say) {
    const clock = new ManualClock(Date.UTC(2025, 5, 1, 9));
    const storage = injectFaults(new MemoryObjectStorage({ clock }));
    const records = injectFaults(new MemoryDocumentRecords<{ title: string }>());
    let held = true;
    const check = (promise: boolean, line: string) => {
      held &&= promise;
      say(`${promise ? '' : '✗ '}${line}`);
    };

    // 1. Upload: the object is stored, the INSERT fails, the object is deleted again.
    records.faults.setFailOn(failOnCall('insert'));
    const upload = await uploadThenRecord({
      storage,
      records,
      clock,
      key: 'documents/invoice.pdf',
      body: 'invoice',
      record: { title: 'Invoice' },
    }).catch((error: unknown) => error);
    records.faults.setFailOn(undefined);
    check(
      upload instanceof Error && upload.message.includes('insert'),
      `upload: object stored, INSERT failed → caller gets the DB error (${(upload as Error).message})`,
    );
    check(
      storage.keys().length === 0 &&
        records.rowCount === 0 &&
        sagaFailureOf(upload)?.compensated[0] === 'object',
      'rollback deleted the object: bucket empty, no row',
    );

    // 2. Delete: the row is soft-deleted, storage fails, the row and its chunks come back.
    const { row } = await uploadThenRecord({
      storage,
      records,
      clock,
      key: 'documents/contract.pdf',
      body: 'contract',
      record: { title: 'Contract' },
    });
    records.addDependants(row.id, 3);
    storage.faults.setFailOn(failOnCall('delete', storage.faults.calls('delete') + 1));
    const removal = await markThenDelete({ storage, records, clock, id: row.id }).catch(
      (e: unknown) => e,
    );
    storage.faults.setFailOn(undefined);
    check(
      removal instanceof Error && storage.keys().includes('documents/contract.pdf'),
      'delete: row soft-deleted, storage DELETE failed → caller gets the storage error',
    );
    const chunks = records.dependantsOf(row.id).map((c) => c.status);
    check(
      records.get(row.id)?.status === 'active' && chunks.every((s) => s === 'active'),
      `restore put the row and its ${chunks.length} chunks back to active`,
    );

    // 3. Reconciliation: plant what a crash leaves behind and let the pass find it.
    await storage.put('documents/crashed-upload.pdf', 'no row ever written'); // orphan
    const lost = await uploadThenRecord({
      storage,
      records,
      clock,
      key: 'documents/lost.pdf',
      body: 'x',
      record: { title: 'Lost' },
    });
    records.addDependants(lost.row.id, 2);
    await storage.delete('documents/lost.pdf'); // the object vanished behind the database's back
    await clock.advance(2 * 3_600_000); // past the 1-hour grace period
    say('planted: an orphan object and an active row whose object is gone');

    const dryRun = await reconcile({ storage, records, clock, dryRun: true });
    check(
      dryRun.found.orphanObject === 1 &&
        dryRun.found.missingObject === 1 &&
        storage.keys().length === 2,
      `dry run: ${dryRun.checked} keys checked, found 1 orphan + 1 missing object, changed nothing`,
    );
    const real = await reconcile({ storage, records, clock });
    check(
      real.repaired.orphanObject === 1 && real.repaired.missingObject === 1 && real.failed === 0,
      'real run: orphan deleted, row marked ERROR with its chunks soft-deleted',
    );
    const invariant =
      storage.keys().join() === 'documents/contract.pdf' &&
      records.get(lost.row.id)?.status === 'error' &&
      records.dependantsOf(lost.row.id).every((c) => c.status === 'deleted');
    const again = await reconcile({ storage, records, clock });
    check(
      invariant && again.actions.length === 0,
      'second pass finds nothing: every live row has its object, no object lacks a row',
    );
    return held;
  },
};

export default scenario;
