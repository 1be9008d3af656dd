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
 */
import type { Clock } from '../clock/clock.js';
import { systemClock } from '../clock/system-clock.js';
import { portSchema } from '../consistency/recipe-options.js';
import { decodeHex, encodeBase64, encodeHex } from '../crypto/byte-encoding.js';
import { BallastError } from '../errors/ballast-error.js';
import { type Logger, noopLogger } from '../logging/logger.js';
import { parseOptions } from '../options/parse-options.js';
import * as v from '../options/small-validator.js';
import type { ObjectStorage, PresignedRequest } from '../storage/object-storage.js';
import type { BackupFiles, BackupSource, RestoreCheckResult } from './backup-ports.js';
import type { BackupRun, BackupRunStore, ListBackupRunsOptions } from './backup-run.js';
import { digestingStream, digestStream } from './sha256-stream.js';

/** Something an operator must look at. Delivered to `on.alert`. */
export interface BackupAlert {
  readonly kind:
    | 'backup-failed'
    | 'offsite-copy-failed'
    | 'local-missing'
    | 'local-checksum-mismatch'
    | 'offsite-missing'
    | 'offsite-checksum-mismatch'
    | 'offsite-unavailable'
    | 'restore-failed'
    | 'retention-failed';
  /** The run concerned, when there is one. */
  readonly runId?: string;
  /** Operator-facing description. */
  readonly message: string;
}

/** Events of a {@link BackupRunner}. */
export interface BackupEvents {
  /** A run succeeded (after its off-site copy was tried). */
  succeeded: (run: BackupRun) => void;
  /** A run failed; `error` is the cause. */
  failed: (event: { readonly run: BackupRun; readonly error: unknown }) => void;
  /** Anything that needs a person: failed runs, failed copies, failed verification. */
  alert: (alert: BackupAlert) => void;
}

/** Configuration of {@link createBackupRunner}. */
export interface BackupRunnerConfig {
  /** Produces the dumps. */
  readonly source: BackupSource;
  /** Where dumps are written. */
  readonly files: BackupFiles;
  /** Where runs are recorded. */
  readonly runs: BackupRunStore;
  /** Succeeded backups to keep; older ones are deleted with their off-site copies. Default `30`. */
  readonly keep?: number;
  /** Off-site storage for a copy of every good backup. Default: none. */
  readonly offsite?: ObjectStorage;
  /** Key prefix of off-site copies. Default `'backups/'`. */
  readonly offsitePrefix?: string;
  /**
   * After a copy, read the off-site object back and hash it when the storage does not report a
   * SHA-256 itself (S3 does not for streamed uploads). Default `true`.
   */
  readonly verifyOffsiteChecksum?: boolean;
  /**
   * A `running` run older than this is taken to be from a process that died, and marked
   * `failed` when the next run starts. Default 6 hours.
   */
  readonly staleAfterMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly on?: Partial<BackupEvents>;
}

/** Options of {@link BackupRunner.run}. */
export interface RunBackupOptions {
  /** Recorded as the run's reason. Default `'manual'`. */
  readonly reason?: string;
  readonly signal?: AbortSignal;
  /**
   * Called as the dump is written, with the bytes written so far (at most once per chunk), and
   * once per phase change. For progress bars; a throwing callback is logged and ignored.
   */
  readonly onProgress?: (progress: BackupProgress) => void;
}

/** Where a run is, for progress displays. */
export interface BackupProgress {
  readonly phase: 'dump' | 'offsite' | 'retention' | 'done';
  /** Bytes of the dump written so far. */
  readonly bytes: number;
}

/** What {@link BackupRunner.verify} checks. */
export interface VerifyBackupsOptions {
  /** Runs to re-hash, newest first. Default: every kept run. */
  readonly limit?: number;
  /** Also restore the newest backup into a scratch database and run the sanity check. Default `false`. */
  readonly restore?: boolean;
  readonly signal?: AbortSignal;
}

/** Result of checking one copy. */
export type CopyCheck = 'ok' | 'missing' | 'mismatch' | 'unavailable' | 'skipped';

/** What verification found. */
export interface BackupVerificationReport {
  /** True when every copy checked matched and the restore check (if asked) passed. */
  readonly ok: boolean;
  readonly runs: ReadonlyArray<{
    readonly runId: string;
    readonly local: CopyCheck;
    readonly offsite: CopyCheck;
  }>;
  /** Present when a restore was asked for and there was a backup to restore. */
  readonly restore?: RestoreCheckResult & { readonly runId: string };
  readonly alerts: readonly BackupAlert[];
}

/** A backup opened for download. */
export interface BackupDownload {
  readonly run: BackupRun;
  /** A readable name for `Content-Disposition`: `backup-YYYY-MM-DD.dump` (UTC date of the run). */
  readonly fileName: string;
  readonly bytes: number;
  /** SHA-256, lower-case hex. */
  readonly checksum: string;
  readonly body: ReadableStream<Uint8Array>;
}

/** Runs, verifies, prunes and serves backups. */
export interface BackupRunner {
  /**
   * Dumps, hashes and records one backup, copies it off-site, retries earlier failed copies and
   * applies retention. Resolves with the succeeded run (check its `offsite`). Rejects with
   * `BACKUP_IN_PROGRESS` when a run is already going, `BACKUP_FAILED` when the dump failed.
   */
  run(options?: RunBackupOptions): Promise<BackupRun>;
  /**
   * Takes a backup, then runs `operation` (a migration, a bulk import). If the backup fails the
   * operation does not run.
   */
  backupBefore<T>(label: string, operation: () => Promise<T>): Promise<T>;
  /** Recorded runs, newest first. */
  list(options?: ListBackupRunsOptions): Promise<BackupRun[]>;
  /** One run; `undefined` when unknown. */
  get(id: string): Promise<BackupRun | undefined>;
  /** Opens a kept backup for download. `NOT_FOUND` when there is no such restorable backup. */
  open(id: string): Promise<BackupDownload>;
  /** A presigned GET of the off-site copy. `NOT_FOUND` when the run has no verified copy. */
  presignOffsite(
    id: string,
    options: { readonly expiresInSeconds: number },
  ): Promise<PresignedRequest>;
  /** Re-hashes local and off-site copies; optionally restores the newest. Alerts on failures. */
  verify(options?: VerifyBackupsOptions): Promise<BackupVerificationReport>;
  /** Copies kept backups whose off-site copy is `pending` or `failed`. Returns how many succeeded. */
  retryOffsite(): Promise<number>;
  /** Applies retention now. Returns how many runs it pruned. */
  prune(): Promise<number>;
  /** Subscribes to an event; returns a function that unsubscribes. */
  on<E extends keyof BackupEvents>(event: E, listener: BackupEvents[E]): () => void;
}

const sixHoursMs = 6 * 3_600_000;

const configSchema = v.object({
  source: portSchema<BackupSource>('a BackupSource', 'dump'),
  files: portSchema<BackupFiles>('a BackupFiles', 'write', 'read', 'size', 'delete', 'locate'),
  runs: portSchema<BackupRunStore>(
    'a BackupRunStore',
    'start',
    'update',
    'get',
    'list',
    'failStale',
  ),
  keep: v.optional(v.number({ min: 1, max: 10_000, integer: true })),
  offsite: v.optional(
    portSchema<ObjectStorage>('an ObjectStorage', 'put', 'get', 'head', 'delete', 'presignGet'),
  ),
  offsitePrefix: v.optional(v.string({ maxLength: 512, pattern: /^(|.*\/)$/ })),
  verifyOffsiteChecksum: v.optional(v.boolean()),
  staleAfterMs: v.optional(v.durationMs({ min: 60_000 })),
  clock: v.optional(v.clock()),
  logger: v.optional(v.logger()),
  on: v.optional(
    v.object({
      succeeded: v.optional(v.func()),
      failed: v.optional(v.func()),
      alert: v.optional(v.func()),
    }),
  ),
});

const runOptionsSchema = v.object({
  reason: v.optional(v.string({ minLength: 1, maxLength: 200 })),
  signal: v.optional(v.abortSignal()),
  onProgress: v.optional(v.func()),
});

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
  const dot = run.path.indexOf('.');
  const extension = dot >= 0 ? run.path.slice(dot) : '';
  return `backup-${run.startedAt.toISOString().slice(0, 10)}${extension}`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
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
  const staleAfterMs = config.staleAfterMs ?? sixHoursMs;
  const clock = config.clock ?? systemClock;
  const logger = config.logger ?? noopLogger;
  const listeners: { [E in keyof BackupEvents]: Set<BackupEvents[E]> } = {
    succeeded: new Set(),
    failed: new Set(),
    alert: new Set(),
  };
  for (const [event, listener] of Object.entries(config.on ?? {})) {
    // biome-ignore lint/suspicious/noExplicitAny: keyed by the same event name
    if (listener) (listeners[event as keyof BackupEvents] as Set<any>).add(listener);
  }

  function emit<E extends keyof BackupEvents>(
    event: E,
    value: Parameters<BackupEvents[E]>[0],
  ): void {
    for (const listener of listeners[event]) {
      try {
        (listener as (value: unknown) => void)(value);
      } catch (error) {
        // A listener's failure must not change what the backup did; it is only reported.
        logger.warn({ err: error, event }, `backup: ${event} listener threw; ignored`);
      }
    }
  }

  function alert(value: BackupAlert): BackupAlert {
    logger.error({ backup: value.runId, kind: value.kind }, `backup alert: ${value.message}`);
    emit('alert', value);
    return value;
  }

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

  /** Compares the off-site object with the run's size and checksum. */
  async function checkOffsite(run: BackupRun, deep: boolean): Promise<CopyCheck> {
    if (!offsite || !run.offsiteKey) return 'skipped';
    let info: Awaited<ReturnType<ObjectStorage['head']>>;
    try {
      info = await offsite.head(run.offsiteKey);
    } catch (error) {
      logger.warn({ err: error, backup: run.id }, 'backup: off-site head failed');
      return 'unavailable';
    }
    if (!info) return 'missing';
    if (info.size !== run.bytes) return 'mismatch';
    const expected = run.checksum ? decodeHex(run.checksum) : undefined;
    if (info.checksumSha256 !== undefined && expected) {
      return info.checksumSha256 === encodeBase64(expected) ? 'ok' : 'mismatch';
    }
    if (!deep) return 'ok';
    try {
      const object = await offsite.get(run.offsiteKey);
      if (!object) return 'missing';
      const { checksum, bytes } = await digestStream(object.body);
      return checksum === run.checksum && bytes === run.bytes ? 'ok' : 'mismatch';
    } catch (error) {
      logger.warn({ err: error, backup: run.id }, 'backup: off-site read failed');
      return 'unavailable';
    }
  }

  /** Copies one run off-site and checks the copy; records the outcome, never throws. */
  async function copyOffsite(run: BackupRun): Promise<boolean> {
    if (!offsite || run.bytes === undefined) return false;
    const key = `${offsitePrefix}${run.path}`;
    let problem: string;
    try {
      const body = await files.read(run.path);
      if (!body) {
        problem = `local file ${files.locate(run.path)} is missing`;
      } else {
        await offsite.put(key, body, {
          contentLength: run.bytes,
          contentType: 'application/octet-stream',
        });
        const check = await checkOffsite({ ...run, offsiteKey: key }, verifyOffsiteChecksum);
        if (check === 'ok') {
          await runs.update(run.id, { offsite: 'copied', offsiteKey: key, error: undefined });
          logger.info({ backup: run.id, key }, 'backup: off-site copy verified');
          return true;
        }
        problem = `off-site copy check: ${check}`;
      }
    } catch (error) {
      problem = describe(error);
    }
    await runs.update(run.id, { offsite: 'failed', error: `off-site copy failed: ${problem}` });
    alert({
      kind: 'offsite-copy-failed',
      runId: run.id,
      message: `Off-site copy of backup ${run.id} failed (${problem}); the next run retries it.`,
    });
    return false;
  }

  async function retryOffsite(except?: string): Promise<number> {
    if (!offsite) return 0;
    let copied = 0;
    for (const run of await runs.list({ status: 'succeeded' })) {
      if (run.id === except || (run.offsite !== 'failed' && run.offsite !== 'pending')) continue;
      if (await copyOffsite(run)) copied++;
    }
    return copied;
  }

  async function prune(): Promise<number> {
    const succeeded = await runs.list({ status: 'succeeded' });
    let pruned = 0;
    for (const run of succeeded.slice(keep)) {
      try {
        await files.delete(run.path);
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

  async function run(options: RunBackupOptions = {}): Promise<BackupRun> {
    parseOptions(runOptionsSchema, options, 'backupRunner.run()');
    const signal = options.signal ?? new AbortController().signal;
    const startedAt = clock.now();
    const stale = await runs.failStale(
      new Date(startedAt - staleAfterMs),
      'interrupted: the process stopped before the run finished',
    );
    if (stale > 0) logger.warn({ stale }, 'backup: marked interrupted runs as failed');
    const id = newRunId(startedAt);
    const path = `${id}${source.extension}`;
    await runs.start({
      id,
      reason: options.reason ?? 'manual',
      startedAt: new Date(startedAt),
      path,
      offsite: offsite ? 'pending' : 'none',
    });
    logger.info({ backup: id, reason: options.reason ?? 'manual' }, 'backup: run started');
    let bytes = 0;
    const progress = (phase: BackupProgress['phase']) => {
      try {
        options.onProgress?.({ phase, bytes });
      } catch (error) {
        logger.warn({ err: error }, 'backup: onProgress threw; ignored');
      }
    };
    try {
      const dump = await source.dump(signal);
      const { stream, digest } = digestingStream((written) => {
        bytes = written;
        progress('dump');
      });
      await files.write(path, dump.pipeThrough(stream, { signal }), { signal });
      const written = await files.size(path);
      if (written !== digest.bytes) {
        throw new Error(`wrote ${written ?? 'no'} bytes, dumped ${digest.bytes}`);
      }
      await runs.update(id, {
        status: 'succeeded',
        finishedAt: new Date(clock.now()),
        bytes: digest.bytes,
        checksum: digest.hex(),
      });
    } catch (error) {
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
      await copyOffsite(await mustGet(id));
      await retryOffsite(id);
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

  async function verify(options: VerifyBackupsOptions = {}): Promise<BackupVerificationReport> {
    const kept = await runs.list({ status: 'succeeded', limit: options.limit ?? keep });
    const alerts: BackupAlert[] = [];
    const checked: Array<BackupVerificationReport['runs'][number]> = [];
    for (const run of kept) {
      if (options.signal?.aborted) throw options.signal.reason;
      let local: CopyCheck;
      const body = await files.read(run.path);
      if (!body) local = 'missing';
      else {
        const digest = await digestStream(body, options.signal);
        local = digest.checksum === run.checksum && digest.bytes === run.bytes ? 'ok' : 'mismatch';
      }
      const remote = run.offsite === 'copied' ? await checkOffsite(run, true) : 'skipped';
      checked.push({ runId: run.id, local, offsite: remote });
      if (local === 'ok') await runs.update(run.id, { verifiedAt: new Date(clock.now()) });
      else {
        alerts.push(
          alert({
            kind: local === 'missing' ? 'local-missing' : 'local-checksum-mismatch',
            runId: run.id,
            message: `Local copy of backup ${run.id} is ${local === 'missing' ? 'missing' : 'corrupt (checksum mismatch)'}.`,
          }),
        );
      }
      if (remote === 'missing' || remote === 'mismatch' || remote === 'unavailable') {
        alerts.push(
          alert({
            kind:
              remote === 'missing'
                ? 'offsite-missing'
                : remote === 'mismatch'
                  ? 'offsite-checksum-mismatch'
                  : 'offsite-unavailable',
            runId: run.id,
            message: `Off-site copy of backup ${run.id}: ${remote}.`,
          }),
        );
      }
    }
    let restore: BackupVerificationReport['restore'];
    if (options.restore) {
      const newest = kept[0];
      if (newest && source.checkRestore) {
        const body = await files.read(newest.path);
        let result: RestoreCheckResult;
        if (!body) result = { ok: false, detail: 'local file missing' };
        else {
          try {
            result = await source.checkRestore(body, {
              signal: options.signal ?? new AbortController().signal,
            });
          } catch (error) {
            result = { ok: false, detail: describe(error) };
          }
        }
        restore = { runId: newest.id, ...result };
        if (!result.ok) {
          alerts.push(
            alert({
              kind: 'restore-failed',
              runId: newest.id,
              message: `Restoring backup ${newest.id} failed: ${result.detail}`,
            }),
          );
        }
      }
    }
    return { ok: alerts.length === 0, runs: checked, ...(restore && { restore }), alerts };
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
          ? await files.read(found.path)
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
        body,
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
    verify,
    retryOffsite: () => retryOffsite(),
    prune,
    on(event, listener) {
      listeners[event].add(listener);
      return () => {
        listeners[event].delete(listener);
      };
    },
  };
}
