/**
 * The runner's listeners and alerts. A listener that throws is logged and ignored: what a
 * listener does must never change what a backup did. Every alert is also logged at error level,
 * so an operator without an `alert` listener still sees it.
 */
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
  const listeners: { [E in keyof BackupEvents]: Set<BackupEvents[E]> } = {
    succeeded: new Set(),
    failed: new Set(),
    alert: new Set(),
  };
  for (const [event, listener] of Object.entries(initial ?? {})) {
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

  return {
    emit,
    alert,
    on(event, listener) {
      listeners[event].add(listener);
      return () => {
        listeners[event].delete(listener);
      };
    },
  };
}

/** @internal An error's message, for run records and alerts. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
