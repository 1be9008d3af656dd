/**
 * The events of one object (a queue), as every Ballast API offers them: listeners given as
 * `on: { … }` in the options, `.on(event, listener)` returning an unsubscribe function, and an
 * emit that calls each listener apart, so a failing listener never changes an outcome or stops
 * the listeners after it.
 */

type EventMap<Events> = { [E in keyof Events]: (payload: never) => void };

/** Listener sets of an object's events. */
export interface Listeners<Events extends EventMap<Events>> {
  emit<E extends keyof Events>(event: E, payload: Parameters<Events[E]>[0]): void;
  /** Adds a listener; returns a function that removes it. An unknown event is ignored. */
  on<E extends keyof Events>(event: E, listener: Events[E]): () => void;
}

/** Creates the listener sets of `names`, starting with the listeners in `initial`. */
export function createListeners<Events extends EventMap<Events>>(
  names: readonly (keyof Events)[],
  initial: Partial<Events> = {},
): Listeners<Events> {
  const sets = new Map<keyof Events, Set<unknown>>(names.map((name) => [name, new Set()]));
  const on = <E extends keyof Events>(event: E, listener: Events[E]) => {
    const set = sets.get(event);
    if (set === undefined || typeof listener !== 'function') return () => {};
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  };
  // `on` ignores what is not a function, an absent listener included.
  for (const name of names) on(name, initial[name] as Events[typeof name]);
  return {
    emit(event, payload) {
      for (const listener of [...(sets.get(event) ?? [])]) {
        try {
          (listener as (value: typeof payload) => void)(payload);
        } catch {
          // A listener's failure is the listener's.
        }
      }
    },
    on,
  };
}
