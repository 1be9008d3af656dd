/**
 * Run records in memory, for tests, the demo and single-process apps that keep their history
 * elsewhere. It gives the same no-overlap guarantee as the Postgres store, within one process.
 */
import { BallastError } from '../errors/ballast-error.js';
import type {
  BackupRun,
  BackupRunPatch,
  BackupRunStore,
  ListBackupRunsOptions,
  NewBackupRun,
} from './backup-run.js';

/** {@link BackupRunStore} in memory. */
export class MemoryBackupRunStore implements BackupRunStore {
  readonly #runs = new Map<string, BackupRun>();

  async start(run: NewBackupRun): Promise<void> {
    for (const existing of this.#runs.values()) {
      if (existing.status === 'running') {
        throw new BallastError('BACKUP_IN_PROGRESS', {
          message: `Backup ${existing.id} is still running.`,
          details: { runningId: existing.id },
        });
      }
    }
    this.#runs.set(run.id, { ...run, status: 'running' });
  }

  async update(id: string, patch: BackupRunPatch): Promise<void> {
    const run = this.#runs.get(id);
    if (run) this.#runs.set(id, { ...run, ...patch });
  }

  async get(id: string): Promise<BackupRun | undefined> {
    return this.#runs.get(id);
  }

  async list(options: ListBackupRunsOptions = {}): Promise<BackupRun[]> {
    const runs = [...this.#runs.values()]
      .filter((run) => options.includePruned || run.prunedAt === undefined)
      .filter((run) => options.status === undefined || run.status === options.status)
      .sort(newestFirst);
    return options.limit === undefined ? runs : runs.slice(0, options.limit);
  }

  async failStale(seenBefore: Date, error: string): Promise<number> {
    let marked = 0;
    for (const run of this.#runs.values()) {
      const lastSeen = run.heartbeatAt ?? run.startedAt;
      if (run.status === 'running' && lastSeen < seenBefore) {
        this.#runs.set(run.id, { ...run, status: 'failed', error, finishedAt: lastSeen });
        marked++;
      }
    }
    return marked;
  }
}

/** Newest first; ids break ties because they sort by start time too. */
export function newestFirst(a: BackupRun, b: BackupRun): number {
  const byTime = b.startedAt.getTime() - a.startedAt.getTime();
  return byTime !== 0 ? byTime : b.id < a.id ? -1 : b.id > a.id ? 1 : 0;
}
