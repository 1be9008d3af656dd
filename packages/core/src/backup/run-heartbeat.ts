/**
 * A running backup's sign of life. A dump of a large database can take hours, and a process that
 * died mid-dump leaves its run `running` for ever; only a heartbeat tells the two apart, so the
 * next run can take over minutes after a crash instead of after the longest dump anyone expects.
 */
import type { Clock } from '../clock/clock.js';
import type { Logger } from '../logging/logger.js';
import type { BackupRunStore } from './backup-run.js';

/** Refreshes run `id`'s `heartbeatAt` every `everyMs` until the returned function is called. */
export function startHeartbeat(options: {
  readonly runs: BackupRunStore;
  readonly id: string;
  readonly everyMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
}): () => void {
  const { runs, id, everyMs, clock, logger } = options;
  let stopped = false;
  let cancel = clock.setTimer(beat, everyMs);

  function beat(): void {
    runs
      .update(id, { heartbeatAt: new Date(clock.now()) })
      .catch((error: unknown) => {
        // One missed beat is harmless: the run is only taken as dead after several.
        logger.warn({ err: error, backup: id }, 'backup: could not refresh the run heartbeat');
      })
      .finally(() => {
        if (!stopped) cancel = clock.setTimer(beat, everyMs);
      });
  }

  return () => {
    stopped = true;
    cancel();
  };
}
