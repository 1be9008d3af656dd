/**
 * The runner's listeners and alerts (a listener that throws is logged and ignored, as
 * `createEventListeners` does for every component). Every alert is also logged at error level,
 * so an operator without an `alert` listener still sees it.
 */
import { createEventListeners } from '../logging/event-listeners.js';
import type { Logger } from '../logging/logger.js';
import type { BackupAlert, BackupEvents } from './backup-runner-config.js';

/** @internal */
export interface BackupEventHub {
  emit<E extends keyof BackupEvents>(event: E, value: Parameters<BackupEvents[E]>[0]): void;
  /** Logs and emits an alert; returns it for reports. */
  alert(value: BackupAlert): BackupAlert;
  on<E extends keyof BackupEvents>(event: E, listener: BackupEvents[E]): () => void;
}

/** @internal */
export function createBackupEventHub(
  initial: Partial<BackupEvents> | undefined,
  logger: Logger,
): BackupEventHub {
  const { on, emit } = createEventListeners<BackupEvents>(initial, logger, 'backup', {
    succeeded: true,
    failed: true,
    alert: true,
  });

  function alert(value: BackupAlert): BackupAlert {
    logger.error({ backup: value.runId, kind: value.kind }, `backup alert: ${value.message}`);
    emit('alert', value);
    return value;
  }

  return { emit, alert, on };
}

/** @internal An error's message, for run records and alerts. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
