/**
 * The backup runner (seed 002 §1). Its promise: a backup it reports as `succeeded` was written
 * whole and hashed on the way, and with off-site storage configured it also exists somewhere
 * other than the machine that made it, with the remote size and checksum checked.
 *
 * It guards against the ways backups quietly stop being backups: a dump that died half-way
 * (the dump stream errors, the run is `failed`, the partial file is deleted), two runs at once
 * (the run store refuses a second `running` run), a run whose process died (marked `failed` on
 * the next start), an off-site outage (the local backup stays good with `offsite: 'failed'`
 * and the next run retries the copy), retention that forgets the off-site copy (pruning deletes
 * both), and bit rot (`verify()` re-hashes both copies and can restore the newest one).
 *
 * Runtime-agnostic: dumps, files and records come through ports; `@ballast/adapters/postgres`
 * wires `pg_dump`, a directory and a table (`createPostgresBackupRunner`).
 *
 * The parts live beside it: types and option validation (`backup-runner-config.ts`), events and
 * alerts (`backup-events.ts`), off-site copies (`offsite-copies.ts`), verification
 * (`verify-backups.ts`).
 */
import { systemClock } from '../clock/system-clock.js';
import { encodeHex } from '../crypto/byte-encoding.js';
import { BallastError } from '../errors/ballast-error.js';
import { noopLogger } from '../logging/logger.js';
import { invalidArgument } from '../options/invalid-argument.js';
import { parseOptions } from '../options/parse-options.js';
import { createBackupEventHub, describeError as describe } from './backup-events.js';
import type { BackupRun } from './backup-run.js';
import {
  type BackupProgress,
  type BackupRunner,
  type BackupRunnerConfig,
  configSchema,
  fiveMinutesMs,
  type RunBackupOptions,
  runOptionsSchema,
} from './backup-runner-config.js';
import { checkedDownload } from './checked-download.js';
import { createOffsiteCopies } from './offsite-copies.js';
import { runFile } from './run-file.js';
import { startHeartbeat } from './run-heartbeat.js';
import { digestingStream } from './sha256-stream.js';
import { verifyBackups } from './verify-backups.js';

export type {
  BackupAlert,
  BackupDownload,
  BackupEvents,
  BackupProgress,
  BackupRunner,
  BackupRunnerConfig,
  BackupVerificationReport,
  CopyCheck,
  RunBackupOptions,
  VerifyBackupsOptions,
} from './backup-runner-config.js';

/** An id that sorts by start time and is unique without coordination. */
function newRunId(now: number): string {
  const stamp = new Date(now)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const random = new Uint8Array(3);
  crypto.getRandomValues(random);
  return `${stamp}-${encodeHex(random)}`;
}

/** `backup-YYYY-MM-DD<extension>`: what a person downloading it should see. */
export function backupFileName(run: Pick<BackupRun, 'startedAt' | 'path'>): string {
  if (typeof run?.path !== 'string' || !(run.startedAt instanceof Date)) {
    throw invalidArgument('backupFileName()', 'run', '{ startedAt: Date, path: string }');
  }
  const dot = run.path.indexOf('.');
  const extension = dot >= 0 ? run.path.slice(dot) : '';
  return `backup-${run.startedAt.toISOString().slice(0, 10)}${extension}`;
}

/**
 * Creates a backup runner over a source, a files port and a run store.
 *
 * Most applications call `createPostgresBackupRunner()` from `@ballast/adapters/postgres`,
 * which builds this from a database URL and a directory and validates its options.
 *
 * @example
 * ```ts
 * const runner = createBackupRunner({
 *   source, files: new MemoryBackupFiles(), runs: new MemoryBackupRunStore(), keep: 7,
 *   on: { alert: (alert) => pager.send(alert.message) },
 * });
 * const run = await runner.run();
 * ```
 */
export function createBackupRunner(options: BackupRunnerConfig): BackupRunner {
  parseOptions(configSchema, options, 'createBackupRunner()');
  const config = options;
  const { source, files, runs } = config;
  const keep = config.keep ?? 30;
  const offsite = config.offsite;
  const offsitePrefix = config.offsitePrefix ?? 'backups/';
  const verifyOffsiteChecksum = config.verifyOffsiteChecksum ?? true;
  const staleAfterMs = config.staleAfterMs ?? fiveMinutesMs;
  const clock = config.clock ?? systemClock;
  const logger = config.logger ?? noopLogger;
  const events = createBackupEventHub(config.on, logger);
  const { emit, alert } = events;
  const offsiteCopies = createOffsiteCopies({
    offsite,
    offsitePrefix,
    verifyOffsiteChecksum,
    files,
    runs,
    logger,
    events,
  });

  async function mustGet(id: string): Promise<BackupRun> {
    const run = await runs.get(id);
    if (!run) {
      throw new BallastError('NOT_FOUND', {
        message: `No backup run ${id}.`,
        details: { backupId: id },
      });
    }
    return run;
  }

  async function prune(): Promise<number> {
    const succeeded = await runs.list({ status: 'succeeded' });
    let pruned = 0;
    for (const run of succeeded.slice(keep)) {
      try {
        await files.delete(runFile(files, run));
        if (offsite && run.offsiteKey) await offsite.delete(run.offsiteKey);
        await runs.update(run.id, { prunedAt: new Date(clock.now()) });
        pruned++;
      } catch (error) {
        // Left unpruned so the next pass deletes what is left (deletes are idempotent).
        alert({
          kind: 'retention-failed',
          runId: run.id,
          message: `Retention could not delete backup ${run.id}: ${describe(error)}`,
        });
      }
    }
    if (pruned > 0) logger.info({ pruned, keep }, 'backup: retention pruned old backups');
    return pruned;
  }

  /**
   * Marks runs whose process died as failed, and deletes what each left in `files`: killed
   * mid-dump, a process never reaches its own cleanup, and a half-written dump of a large
   * database, listed nowhere, would stay on disk through every later crash.
   */
  async function failDeadRuns(seenBefore: Date): Promise<void> {
    const running = await runs.list({ status: 'running' });
    const stale = await runs.failStale(
      seenBefore,
      'interrupted: the process stopped before the run finished',
    );
    if (stale === 0) return;
    logger.warn({ stale }, 'backup: marked interrupted runs as failed');
    for (const candidate of running) {
      if ((await runs.get(candidate.id))?.status !== 'failed') continue;
      await files.delete(runFile(files, candidate)).catch((error: unknown) => {
        // Only disk space is at stake, and this run goes ahead; say so and carry on.
        logger.warn(
          { err: error, backup: candidate.id },
          'backup: could not delete the partial dump of an interrupted run',
        );
      });
    }
  }

  async function run(options: RunBackupOptions = {}): Promise<BackupRun> {
    parseOptions(runOptionsSchema, options, 'backupRunner.run()');
    const signal = options.signal ?? new AbortController().signal;
    const startedAt = clock.now();
    await failDeadRuns(new Date(startedAt - staleAfterMs));
    const id = newRunId(startedAt);
    const path = `${id}${source.extension}`;
    await runs.start({
      id,
      reason: options.reason ?? 'manual',
      startedAt: new Date(startedAt),
      path,
      // Absolute for a directory: later processes may resolve a relative one elsewhere.
      location: files.locate(path),
      offsite: offsite ? 'pending' : 'none',
    });
    logger.info({ backup: id, reason: options.reason ?? 'manual' }, 'backup: run started');
    const stopHeartbeat = startHeartbeat({
      runs,
      id,
      everyMs: Math.floor(staleAfterMs / 5),
      clock,
      logger,
    });
    let bytes = 0;
    const progress = (phase: BackupProgress['phase']) => {
      try {
        options.onProgress?.({ phase, bytes });
      } catch (error) {
        logger.warn({ err: error }, 'backup: onProgress threw; ignored');
      }
    };
    let body: ReadableStream<Uint8Array> | undefined;
    try {
      const dump = await source.dump(signal);
      const { stream, digest } = digestingStream((written) => {
        bytes = written;
        progress('dump');
      });
      body = dump.pipeThrough(stream, { signal });
      await files.write(path, body, { signal });
      const written = await files.size(path);
      if (written !== digest.bytes) {
        throw new Error(`wrote ${written ?? 'no'} bytes, dumped ${digest.bytes}`);
      }
      stopHeartbeat();
      await runs.update(id, {
        status: 'succeeded',
        finishedAt: new Date(clock.now()),
        bytes: digest.bytes,
        checksum: digest.hex(),
      });
    } catch (error) {
      stopHeartbeat();
      // A write that failed before reading (a directory it cannot create) leaves the dump
      // unread: its process would block on a full pipe for ever, and keep ours alive.
      // (A cancel that fails has nothing left to release.)
      if (body && !body.locked) await body.cancel(error).catch(() => {});
      await files.delete(path).catch((deleteError: unknown) => {
        logger.warn({ err: deleteError, backup: id }, 'backup: could not delete partial dump');
      });
      await runs.update(id, {
        status: 'failed',
        finishedAt: new Date(clock.now()),
        error: describe(error),
        offsite: offsite ? 'failed' : 'none',
      });
      const failed = await mustGet(id);
      emit('failed', { run: failed, error });
      alert({
        kind: 'backup-failed',
        runId: id,
        message: `Backup ${id} failed: ${describe(error)}`,
      });
      if (signal.aborted)
        throw new BallastError('ABORTED', { message: `Backup ${id} aborted.`, cause: error });
      throw new BallastError('BACKUP_FAILED', {
        message: `Backup ${id} failed: ${describe(error)}`,
        details: { backupId: id },
        cause: error,
      });
    }
    if (offsite) {
      progress('offsite');
      await offsiteCopies.copy(await mustGet(id));
      await offsiteCopies.retry(id);
    }
    progress('retention');
    await prune();
    progress('done');
    const done = await mustGet(id);
    logger.info(
      { backup: id, bytes: done.bytes, checksum: done.checksum, offsite: done.offsite },
      'backup: run succeeded',
    );
    emit('succeeded', done);
    return done;
  }

  return {
    run,
    async backupBefore(label, operation) {
      await run({ reason: label });
      return operation();
    },
    list: (options) => runs.list(options),
    get: (id) => runs.get(id),
    async open(id) {
      const found = await mustGet(id);
      const body =
        found.status === 'succeeded' && found.prunedAt === undefined
          ? await files.read(runFile(files, found))
          : undefined;
      if (!body || found.bytes === undefined || found.checksum === undefined) {
        throw new BallastError('NOT_FOUND', {
          message: `Backup ${id} has no restorable file.`,
          details: { backupId: id },
        });
      }
      return {
        run: found,
        fileName: backupFileName(found),
        bytes: found.bytes,
        checksum: found.checksum,
        body: checkedDownload(body, {
          runId: found.id,
          bytes: found.bytes,
          checksum: found.checksum,
        }),
      };
    },
    async presignOffsite(id, options) {
      const found = await mustGet(id);
      if (!offsite || found.offsite !== 'copied' || !found.offsiteKey || found.prunedAt) {
        throw new BallastError('NOT_FOUND', {
          message: `Backup ${id} has no verified off-site copy.`,
          details: { backupId: id },
        });
      }
      return offsite.presignGet(found.offsiteKey, options);
    },
    verify: (verifyOptions) =>
      verifyBackups({ source, files, runs, keep, clock, events, offsiteCopies }, verifyOptions),
    retryOffsite: () => offsiteCopies.retry(),
    prune,
    on: events.on,
  };
}
