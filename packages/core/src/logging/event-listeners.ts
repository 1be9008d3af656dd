/**
 * Keyed listeners for a component's events, subscribed with `on: { … }` at construction or
 * `.on(event, listener)` later: the one event style of the relay, the in-process publisher and
 * the backup runner. A listener that throws is logged and ignored, because what a listener does
 * must never change what the component did.
 */
import { BallastError } from '../errors/ballast-error.js';
import type { Logger } from './logger.js';

/** @internal */
export interface EventListeners<Events extends { [E in keyof Events]: (value: never) => void }> {
  /** Adds `listener`; returns a function that removes it. */
  on<E extends keyof Events>(event: E, listener: Events[E]): () => void;
  /** Calls every listener of `event` with `value`; a listener that throws is logged. */
  emit<E extends keyof Events>(event: E, value: Parameters<Events[E]>[0]): void;
}

/**
 * @internal
 * @param initial the `on` option's listeners.
 * @param component names the component in the warning and in `on()`'s errors (`'relay'`).
 * @param names every event, so `on()` refuses a misspelt one (the type makes the list complete).
 */
export function createEventListeners<
  Events extends { [E in keyof Events]: (value: never) => void },
>(
  initial: Partial<Events> | undefined,
  logger: Logger,
  component: string,
  names: { readonly [E in keyof Events]-?: true },
): EventListeners<Events> {
  const listeners = new Map<keyof Events, Set<Events[keyof Events]>>();
  // A misspelt event or a listener that is not a function was kept and never called (or threw
  // at every emit): an alert nobody would ever get.
  const refuse = (field: string, expected: string) =>
    new BallastError('INVALID_OPTIONS', {
      message: `Invalid options for ${component}.on(): "${field}": expected ${expected}`,
      details: { field },
    });
  function on<E extends keyof Events>(event: E, listener: Events[E]): () => void {
    if (typeof event !== 'string' || !Object.hasOwn(names, event)) {
      throw refuse('event', `one of ${Object.keys(names).join(', ')}`);
    }
    if (typeof listener !== 'function') throw refuse('listener', 'a function');
    const set = listeners.get(event) ?? new Set();
    listeners.set(event, set);
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }
  for (const event of Object.keys(initial ?? {}) as (keyof Events)[]) {
    const listener = initial?.[event];
    if (listener) on(event, listener as Events[keyof Events]);
  }
  return {
    on,
    emit(event, value) {
      for (const listener of listeners.get(event) ?? []) {
        try {
          (listener as unknown as (value: unknown) => void)(value);
        } catch (error) {
          logger.warn(
            { err: error, event },
            `${component}: ${String(event)} listener threw; ignored`,
          );
        }
      }
    },
  };
}
