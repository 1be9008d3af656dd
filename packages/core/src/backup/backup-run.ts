/**
 * What a backup run is and where its record lives. The record, not the file on disk, is what
 * says a backup is good: a run is `succeeded` only after the whole dump was written and hashed,
 * so a crash mid-dump leaves a `running` row that the next start marks `failed` once its
 * heartbeat stops, never a file that looks complete.
 */

/** Where a run stands. Only `succeeded` runs are kept, listed as restorable and copied off-site. */
export type BackupRunStatus = 'running' | 'succeeded' | 'failed';

/**
 * The off-site copy of a run: `none` when no off-site storage is configured, `pending` until the
 * copy is tried, `copied` once the remote size and checksum matched, `failed` when the copy or
 * its check failed (the next run retries it).
 */
export type OffsiteStatus = 'none' | 'pending' | 'copied' | 'failed';

/** One backup run, as recorded. */
export interface BackupRun {
  /** Unique id, sortable by start time (`20261204T020000Z-3f9a1c`). */
  readonly id: string;
  /** Why it ran: `'scheduled'`, `'manual'`, or the label given to `backupBefore()`. */
  readonly reason: string;
  readonly status: BackupRunStatus;
  readonly startedAt: Date;
  /**
   * Last sign of life of a `running` run: the runner refreshes it while it dumps, so a run whose
   * process died is told from a long one by this, not by its start time.
   */
  readonly heartbeatAt?: Date;
  /** When the run ended, successfully or not. */
  readonly finishedAt?: Date;
  /** File name of the dump in the local backup directory. */
  readonly path: string;
  /**
   * Where the dump was written, as the files port located it when the run started (an absolute
   * path for a directory). Later processes find the file here even when they resolve the
   * backup directory elsewhere (another working directory). Absent on runs recorded before it
   * existed: their file is looked for by `path` in the current directory.
   */
  readonly location?: string;
  /** Size of the dump in bytes, once written. */
  readonly bytes?: number;
  /** SHA-256 of the dump, lower-case hex (what `sha256sum` prints), once written. */
  readonly checksum?: string;
  readonly offsite: OffsiteStatus;
  /** Key of the off-site copy, once copied. */
  readonly offsiteKey?: string;
  /** Why the run or its off-site copy failed (operator-facing; never shown to end users). */
  readonly error?: string;
  /** When retention deleted the files of this run. Pruned runs stay listed as history. */
  readonly prunedAt?: Date;
  /** Last time verification re-hashed this run's local copy and it matched. */
  readonly verifiedAt?: Date;
}

/** Fields a running run starts with. */
export type NewBackupRun = Pick<
  BackupRun,
  'id' | 'reason' | 'startedAt' | 'path' | 'location' | 'offsite'
>;

/** Fields that change as a run progresses. */
export type BackupRunPatch = Partial<
  Pick<
    BackupRun,
    | 'status'
    | 'heartbeatAt'
    | 'finishedAt'
    | 'bytes'
    | 'checksum'
    | 'offsite'
    | 'offsiteKey'
    | 'error'
    | 'prunedAt'
    | 'verifiedAt'
  >
>;

/** Filter for {@link BackupRunStore.list}. */
export interface ListBackupRunsOptions {
  /** Most runs to return, newest first. Default: all. */
  readonly limit?: number;
  /** Only runs with this status. */
  readonly status?: BackupRunStatus;
  /** Include runs whose files retention deleted. Default `false`. */
  readonly includePruned?: boolean;
}

/**
 * The run records port. `@ballast/adapters/postgres` stores them in a table
 * (`createPostgresBackupRunStore`), core keeps them in memory ({@link MemoryBackupRunStore}).
 */
export interface BackupRunStore {
  /**
   * Records a new `running` run. Rejects with `BACKUP_IN_PROGRESS` when another run is still
   * `running` (in any process sharing the store): this is what keeps runs from overlapping.
   */
  start(run: NewBackupRun): Promise<void>;
  /** Updates a run. */
  update(id: string, patch: BackupRunPatch): Promise<void>;
  get(id: string): Promise<BackupRun | undefined>;
  /** Runs, newest first. */
  list(options?: ListBackupRunsOptions): Promise<BackupRun[]>;
  /**
   * Marks `running` runs last seen alive before `seenBefore` (their `heartbeatAt`, or
   * `startedAt` when they have none) as `failed` with `error`: runs whose process died. Their
   * `finishedAt` is that last sign of life. Returns how many it marked.
   */
  failStale(seenBefore: Date, error: string): Promise<number>;
}
