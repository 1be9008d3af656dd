/**
 * The backup runner's public types (configuration, options, reports, the runner interface) and
 * the validation of its options, apart from the behaviour (kysely's `*-config.ts` pattern).
 */
import type { Clock } from '../clock/clock.js';
import { portSchema } from '../consistency/recipe-options.js';
import type { Logger } from '../logging/logger.js';
import * as v from '../options/small-validator.js';
import type { ObjectStorage, PresignedRequest } from '../storage/object-storage.js';
import type { BackupFiles, BackupSource, RestoreCheckResult } from './backup-ports.js';
import type { BackupRun, BackupRunStore, ListBackupRunsOptions } from './backup-run.js';

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
    | 'retention-failed'
    | 'no-backups';
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
   * A `running` run not heard from for this long is taken to be from a process that died, and
   * marked `failed` when the next run starts. The runner refreshes its run's `heartbeatAt` every
   * fifth of this while it dumps, so a long dump is never taken for a dead one. Default 5 minutes
   * (seed 004's "stuck after 5 minutes"); at least 1 minute.
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
  /**
   * The file, checked as it streams: when it no longer matches `bytes` and `checksum` (damaged
   * on disk since the run), the stream errors at its end with `BACKUP_FAILED` instead of ending.
   */
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

/** @internal */
export const fiveMinutesMs = 5 * 60_000;

/** @internal */
export const configSchema = v.object({
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

/** @internal */
export const runOptionsSchema = v.object({
  reason: v.optional(v.string({ minLength: 1, maxLength: 200 })),
  signal: v.optional(v.abortSignal()),
  onProgress: v.optional(v.func()),
});
