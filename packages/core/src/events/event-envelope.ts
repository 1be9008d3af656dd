/**
 * The envelope every Ballast event travels in, from the outbox through a queue engine to a
 * consumer. It is wire data (JSON), so its instant is an ISO 8601 string rather than a `Date`.
 */

/**
 * One event. `type` names the event and its schema version (`'order.created.v1'`), so a consumer
 * knows which schema and which upcasters apply before it reads the payload.
 */
export interface EventEnvelope<Payload = unknown> {
  /** `<name>.v<version>`, e.g. `'order.created.v1'`. */
  readonly type: string;
  /** Unique id (a UUID). The queue engine's job id and the inbox key: duplicates share it. */
  readonly id: string;
  /** When the business fact happened, ISO 8601 UTC (`new Date().toISOString()`). */
  readonly occurredAt: string;
  /** Trace id of the request that caused the event, carried into the consumer's logs. */
  readonly traceId?: string;
  /** Tenant the event belongs to, when the application is multi-tenant. */
  readonly tenantId?: string;
  /**
   * Ordering key (usually the aggregate id, e.g. the order id). Events with the same key are
   * relayed in the order they were published; events without a key have no order guarantee.
   */
  readonly key?: string;
  /** The event's data, valid against the schema of `type`. */
  readonly payload: Payload;
}
