/**
 * Reconciliation cost: Ballast's listing merge-join against the seed's loop (page the rows, one
 * HEAD per row), on the same 20,000 rows, in the same process. Both run as dry runs so they see
 * identical data. The headline is storage requests per 1,000 rows checked on consistent data
 * (the steady state of a job that runs every 2 hours); the same figures with 1% of rows
 * inconsistent are in `extra` (Ballast then adds one HEAD per suspected missing object, to
 * confirm it before acting). rows/s is measured with a simulated 1 ms round trip on every
 * storage request and DB query (memory stores answer in microseconds, which would hide what a
 * request costs), and once more without latency for the CPU cost alone.
 */
import {
  type DocumentRecordRef,
  ManualClock,
  MemoryDocumentRecords,
  MemoryObjectStorage,
  type ObjectStorage,
  reconcile,
  systemClock,
} from '@ballast/core';
import { injectFaults } from '@ballast/core/testing';
import type { Benchmark } from './bench-result.js';

const rowCount = 20_000;
const batchSize = 1000;
const latencyMs = 1;
const concurrency = 4;
const hour = 3_600_000;

async function dataset(inconsistent: boolean) {
  const clock = new ManualClock(Date.UTC(2025, 0, 1));
  const storage = new MemoryObjectStorage({ clock });
  const records = new MemoryDocumentRecords();
  const start = clock.now();
  for (let i = 0; i < rowCount; i++) {
    const key = `documents/${String(i).padStart(7, '0')}`;
    const inconsistency = inconsistent ? i % 100 : 0;
    if (inconsistency !== 1) await storage.put(key, 'x'); // 1: active row, object missing
    const status = inconsistency === 2 ? 'deleted' : 'active'; // 2: deleted row, object kept
    records.plant({ id: `id-${i}`, key, status, data: {}, createdAt: start, updatedAt: start });
    if (inconsistency === 3) await storage.put(`${key}-orphan`, 'x'); // 3: object without row
  }
  await clock.advance(2 * hour);
  return { clock, storage, records };
}

/** The seed's job: page the rows, HEAD each active or deleted row's object. */
async function naiveReconcile(
  storage: ObjectStorage,
  records: Pick<MemoryDocumentRecords, 'listByKey'>,
): Promise<{ rows: number; missingObject: number; deletedRowObject: number }> {
  let after: { key: string; id: string } | undefined;
  const found = { rows: 0, missingObject: 0, deletedRowObject: 0 };
  for (;;) {
    const page: readonly DocumentRecordRef[] = await records.listByKey(
      { after, limit: batchSize },
      { traceId: 'naive', now: Date.now() },
    );
    for (let i = 0; i < page.length; i += concurrency) {
      await Promise.all(
        page.slice(i, i + concurrency).map(async (row) => {
          if (row.status !== 'active' && row.status !== 'deleted') return;
          const exists = (await storage.head(row.key)) !== undefined;
          if (row.status === 'active' && !exists) found.missingObject++;
          if (row.status === 'deleted' && exists) found.deletedRowObject++;
        }),
      );
    }
    found.rows += page.length;
    const last = page.at(-1);
    if (page.length < batchSize || !last) return found;
    after = { key: last.key, id: last.id };
  }
}

async function measure(withLatency: boolean, inconsistent: boolean) {
  const { clock, storage, records } = await dataset(inconsistent);
  const options = withLatency ? { latency: () => latencyMs, clock: systemClock } : {};
  const ballastStorage = injectFaults(storage, options);
  const ballastRecords = injectFaults(records, options);
  let started = performance.now();
  const report = await reconcile({
    storage: ballastStorage,
    records: ballastRecords,
    clock,
    dryRun: true,
    batchSize,
    concurrency,
  });
  const ballastSeconds = (performance.now() - started) / 1000;

  const naiveStorage = injectFaults(storage, options);
  const naiveRecords = injectFaults(records, options);
  started = performance.now();
  const naive = await naiveReconcile(naiveStorage, naiveRecords);
  const naiveSeconds = (performance.now() - started) / 1000;

  const perThousand = (calls: number, rows: number) =>
    Math.round((calls * 1000 * 100) / rows) / 100;
  return {
    ballast: {
      rows: report.rowsChecked,
      storagePer1000: perThousand(ballastStorage.faults.calls(), report.rowsChecked),
      dbPer1000: perThousand(ballastRecords.faults.calls(), report.rowsChecked),
      rowsPerSecond: Math.round(report.rowsChecked / ballastSeconds),
      found: report.found,
    },
    naive: {
      rows: naive.rows,
      storagePer1000: perThousand(naiveStorage.faults.calls(), naive.rows),
      dbPer1000: perThousand(naiveRecords.faults.calls(), naive.rows),
      rowsPerSecond: Math.round(naive.rows / naiveSeconds),
      found: {
        missingObject: naive.missingObject,
        deletedRowObject: naive.deletedRowObject,
        orphanObject: 'not detectable',
      },
    },
  };
}

const benchmark: Benchmark = async () => {
  const { ballast, naive } = await measure(true, false);
  const flawed = await measure(true, true);
  const cpuOnly = await measure(false, false);
  return {
    name: 'reconcile',
    unit: 'storage requests per 1,000 rows checked, consistent data (lower is better)',
    ballast: ballast.storagePer1000,
    peer: naive.storagePer1000,
    peerName: `naive loop: listByKey pages + one HEAD per row (concurrency ${concurrency})`,
    ratio: Math.round((ballast.storagePer1000 / naive.storagePer1000) * 10_000) / 10_000,
    extra: {
      rows: rowCount,
      dbQueriesPer1000Rows: { ballast: ballast.dbPer1000, naive: naive.dbPer1000 },
      rowsPerSecond: {
        note: `memory stores with a simulated ${latencyMs} ms round trip (setTimeout) per storage request and DB query`,
        ballast: ballast.rowsPerSecond,
        naive: naive.rowsPerSecond,
      },
      rowsPerSecondWithoutLatency: {
        ballast: cpuOnly.ballast.rowsPerSecond,
        naive: cpuOnly.naive.rowsPerSecond,
      },
      withOnePercentInconsistent: {
        inconsistencies:
          '200 missing objects, 200 deleted rows keeping objects, 200 orphan objects',
        storageRequestsPer1000Rows: {
          ballast: flawed.ballast.storagePer1000,
          ballastNote: '1 list page + 10 HEADs confirming suspected missing objects',
          naive: flawed.naive.storagePer1000,
        },
        dbQueriesPer1000Rows: { ballast: flawed.ballast.dbPer1000, naive: flawed.naive.dbPer1000 },
        rowsPerSecond: { ballast: flawed.ballast.rowsPerSecond, naive: flawed.naive.rowsPerSecond },
        found: { ballast: flawed.ballast.found, naive: flawed.naive.found },
      },
      targetsMet: {
        storageRequestsPer1000AtMost2: ballast.storagePer1000 <= 2,
        dbQueriesPer1000AtMost2: ballast.dbPer1000 <= 2,
      },
    },
    summary:
      `${ballast.storagePer1000} vs ${naive.storagePer1000} storage requests and ${ballast.dbPer1000} vs ` +
      `${naive.dbPer1000} DB queries per 1,000 rows; ${ballast.rowsPerSecond} vs ${naive.rowsPerSecond} ` +
      `rows/s at ${latencyMs} ms per request (Ballast vs naive HEAD loop)`,
  };
};

export default benchmark;
