import { describe, expect, it } from 'vitest';
import type { Logger } from '../logging/logger.js';
import { sagaFailureOf } from '../saga/saga-failure.js';
import { MemoryObjectStorage } from '../storage/memory-object-storage.js';
import { failOnCall, injectFaults } from '../testing/inject-faults.js';
import { uploadInTransaction } from './upload-in-transaction.js';

interface Release {
  id: string;
  coverKey: string;
}

/** A toy database whose transactions stage writes and apply them only at COMMIT. */
function database() {
  const committed: Release[] = [];
  let commitFails = false;
  let opened = 0;
  return {
    committed,
    get opened() {
      return opened;
    },
    failCommit() {
      commitFails = true;
    },
    transaction: async (work: (tx: Release[]) => Promise<Release>): Promise<Release> => {
      opened++;
      const staged: Release[] = [];
      const result = await work(staged); // a throw here is a ROLLBACK: staged rows vanish
      if (commitFails) throw new Error('could not serialize access (COMMIT failed)');
      committed.push(...staged);
      return result;
    },
  };
}

function setup() {
  const storage = injectFaults(new MemoryObjectStorage());
  const db = database();
  const errors: string[] = [];
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: (_fields, message) => errors.push(message ?? ''),
  };
  let writeFails = false;
  const upload = () =>
    uploadInTransaction({
      storage,
      logger,
      key: 'covers/r1.png',
      body: 'png',
      contentType: 'image/png',
      transaction: db.transaction,
      write: async (tx: Release[], object) => {
        if (writeFails) throw new Error('UPDATE failed');
        const row = { id: 'r1', coverKey: object.key };
        tx.push(row);
        return row;
      },
    });
  return {
    storage,
    db,
    errors,
    upload,
    failWrite: () => {
      writeFails = true;
    },
    state: () => ({ objects: storage.keys(), rows: db.committed.map((r) => r.coverKey) }),
  };
}

describe('uploadInTransaction()', () => {
  it('stores the object and commits the write in one transaction', async () => {
    const { upload, state, db } = setup();
    const { row, object } = await upload();
    expect(row).toEqual({ id: 'r1', coverKey: 'covers/r1.png' });
    expect(object).toMatchObject({ key: 'covers/r1.png', size: 3, contentType: 'image/png' });
    expect(state()).toEqual({ objects: ['covers/r1.png'], rows: ['covers/r1.png'] });
    expect(db.opened).toBe(1);
  });

  it('storage put fails: the transaction rolls back, nothing is stored or written', async () => {
    const { upload, state, storage } = setup();
    storage.faults.setFailOn(failOnCall('put'));
    await expect(upload()).rejects.toThrow('Injected fault: put call #1');
    expect(state()).toEqual({ objects: [], rows: [] });
  });

  it('the DB write fails: rollback, and the object is deleted', async () => {
    const { upload, state, failWrite } = setup();
    failWrite();
    const error = await upload().catch((e: unknown) => e);
    expect((error as Error).message).toBe('UPDATE failed');
    expect(sagaFailureOf(error)).toMatchObject({ failedStep: 'write', compensated: ['object'] });
    expect(state()).toEqual({ objects: [], rows: [] });
  });

  it('the DB write fails and the delete fails: logged, the write error propagates, the object is left for reconciliation', async () => {
    const { upload, state, failWrite, storage, errors } = setup();
    failWrite();
    storage.faults.setFailOn(failOnCall('delete'));
    const error = await upload().catch((e: unknown) => e);
    expect((error as Error).message).toBe('UPDATE failed');
    expect(sagaFailureOf(error)?.compensationFailures.map((f) => f.step)).toEqual(['object']);
    expect(errors).toHaveLength(1);
    expect(state()).toEqual({ objects: ['covers/r1.png'], rows: [] });
  });

  it('COMMIT fails after the write: the object is deleted and the commit error propagates', async () => {
    const { upload, state, db, storage } = setup();
    db.failCommit();
    const error = await upload().catch((e: unknown) => e);
    expect((error as Error).message).toContain('COMMIT failed');
    expect(sagaFailureOf(error)).toMatchObject({
      failedStep: 'commit',
      compensated: ['object'],
      compensationFailures: [],
    });
    expect(storage.faults.calls('delete')).toBe(1);
    expect(state()).toEqual({ objects: [], rows: [] });
  });

  it('COMMIT fails and the delete fails: logged and attached, the commit error propagates', async () => {
    const { upload, state, db, storage, errors } = setup();
    db.failCommit();
    storage.faults.setFailOn(failOnCall('delete'));
    const error = await upload().catch((e: unknown) => e);
    expect((error as Error).message).toContain('COMMIT failed');
    expect(sagaFailureOf(error)?.compensationFailures.map((f) => f.step)).toEqual(['object']);
    expect(errors).toEqual([
      'object could not be deleted after failed commit; left for reconciliation',
    ]);
    expect(state()).toEqual({ objects: ['covers/r1.png'], rows: [] });
  });

  it('rejects a transaction wrapper that never runs the work', async () => {
    const storage = new MemoryObjectStorage();
    await expect(
      uploadInTransaction({
        storage,
        key: 'k',
        body: 'x',
        transaction: async () => ({ id: 'fake' }),
        write: async () => ({ id: 'never' }),
      }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS', details: { field: 'transaction' } });
  });
});
