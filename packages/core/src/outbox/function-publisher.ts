/**
 * A publisher from one async function: the way to relay to anything without an adapter (a
 * webhook, Kafka, SQS, another service). The relay's guarantees hold if the function keeps the
 * port's contract: resolve only once the target has the events, and make a repeat of an event
 * id harmless (an idempotency key, a dedup id, a message id set to the event id).
 */
import type { EventEnvelope } from '../events/event-envelope.js';
import { assertFunction } from '../options/parse-options.js';
import type { Publisher } from './publisher.js';

/** The function behind {@link createFunctionPublisher}. */
export type PublishFunction = (
  events: readonly EventEnvelope[],
  options: { readonly signal?: AbortSignal },
) => Promise<void>;

/**
 * Wraps `publish` as a `Publisher`.
 *
 * @example
 * ```ts
 * const publisher = createFunctionPublisher(async (events, { signal }) => {
 *   const response = await fetch('https://hooks.example.com/events', {
 *     method: 'POST',
 *     headers: { 'content-type': 'application/json', 'idempotency-key': events[0]?.id ?? '' },
 *     body: JSON.stringify(events),
 *     signal,
 *   });
 *   if (!response.ok) throw new Error(`webhook answered ${response.status}`);
 * });
 * ```
 */
export function createFunctionPublisher(publish: PublishFunction): Publisher {
  assertFunction(publish, 'createFunctionPublisher()', 'publish');
  return {
    publish: async (events, options = {}) => {
      if (events.length === 0) return;
      await publish(events, options);
    },
  };
}
