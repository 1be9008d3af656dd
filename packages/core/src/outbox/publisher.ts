/**
 * The publisher port: how a relay hands events to a queue engine. Ballast does not run jobs
 * itself; BullMQ (Redis or Postgres backend), a webhook, Kafka or SQS does, behind this port.
 * Implementations: in-process (core), a function (core), BullMQ (`@ballast/adapters/bullmq`).
 */
import type { EventEnvelope } from '../events/event-envelope.js';

/**
 * Hands events to an engine.
 *
 * Contract: `publish` resolves only once the engine has durably accepted every event, and it is
 * idempotent by event id: publishing an id that was already published delivers it once (BullMQ:
 * the event id is the job id). A relay that dies between "published" and "marked sent" then
 * publishes again without doubling anything. Events that share a `key` arrive in array order.
 */
export interface Publisher {
  publish(
    events: readonly EventEnvelope[],
    options?: { readonly signal?: AbortSignal },
  ): Promise<void>;
  /** Releases connections. */
  close?(): Promise<void>;
}
