/**
 * Versioned event types. A type is a name plus a schema version (`order.created.v1`), so a
 * consumer knows which schema a payload was written against before it reads it, and a change
 * of shape is a new version with an upcaster rather than a silent break of every consumer.
 *
 * The schema is any Standard Schema (zod, valibot, arktype, core's `v`): core stays free of
 * any validation library, and applications keep the one they already use.
 */
import { BallastError, isBallastError } from '../errors/ballast-error.js';
import { parseOptions } from '../options/parse-options.js';
import * as v from '../options/small-validator.js';
import type { StandardSchemaV1 } from '../options/standard-schema.js';
import { generateTraceId } from '../trace/trace-ids.js';
import { printableText } from './envelope-check.js';
import type { EventEnvelope } from './event-envelope.js';
import { issuesReason } from './event-issues.js';

/** Dot-separated lowercase words: `order.created`, `invoice-line.added`. */
export const eventNamePattern = /^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*$/;
/** `<name>.v<version>`, the version a positive integer without leading zeros. */
export const eventTypePattern = /^([a-z][a-z0-9_-]*(?:\.[a-z][a-z0-9_-]*)*)\.v([1-9][0-9]*)$/;

/** Options for {@link EventDefinition.create}. Every field has a sensible default. */
export interface CreateEventOptions {
  /** Event id. Default `crypto.randomUUID()`. Give one to make a re-created event the same event. */
  id?: string;
  /** Ordering key (the aggregate id). Events with one key are relayed in publication order. */
  key?: string;
  /** The tenant the event belongs to. */
  tenantId?: string;
  /** Trace id of the request that caused the event. Default: a new W3C trace id. */
  traceId?: string;
  /** When the fact happened. Default: now. */
  occurredAt?: Date;
}

/**
 * One version of one event: its `type`, its payload schema, and `create()` for new envelopes.
 * `Input` is what the schema accepts (what travels as JSON); `Output` what it yields to a
 * handler (they differ when the schema transforms, e.g. a string into a `Date`).
 */
export interface EventDefinition<Type extends string = string, Input = unknown, Output = Input> {
  /** `order.created` */
  readonly name: string;
  /** `1` */
  readonly version: number;
  /** `order.created.v1` */
  readonly type: Type;
  /** The payload schema. */
  readonly schema: StandardSchemaV1<Input, Output>;
  /**
   * A new envelope of this type. The payload is validated first (synchronously; a schema that
   * only validates asynchronously is refused with `INVALID_OPTIONS`), so an invalid event never
   * reaches the outbox: it throws `EVENT_INVALID` with `details.reason`.
   */
  create(payload: Input, options?: CreateEventOptions): EventEnvelope<Input>;
}

/** The payload type a handler of `Definition` receives. */
export type EventOutput<Definition> =
  Definition extends EventDefinition<string, unknown, infer O> ? O : never;

/** The payload type `create()` of `Definition` accepts. */
export type EventInput<Definition> =
  Definition extends EventDefinition<string, infer I, unknown> ? I : never;

// What a consumer's envelope check accepts (see envelope-check.ts), so create() never makes an
// event every consumer would dead-letter.
// Outside years 0000–9999 `toISOString()` writes six digits and a sign (`+275760-09-13T…`),
// which is no ISO 8601 date-time a consumer accepts.
const isoDate = v.custom<Date>(
  (value) => value instanceof Date && value.getUTCFullYear() >= 0 && value.getUTCFullYear() <= 9999,
  'a valid Date in the years 0000 to 9999',
);
const createOptionsSchema = v.object({
  id: v.optional(v.string({ minLength: 1, maxLength: 200, pattern: printableText })),
  key: v.optional(v.string({ minLength: 1, maxLength: 500, pattern: printableText })),
  tenantId: v.optional(v.string({ minLength: 1, maxLength: 200, pattern: printableText })),
  traceId: v.optional(v.string({ minLength: 1, maxLength: 200, pattern: printableText })),
  occurredAt: v.optional(isoDate),
});

function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  const props = (value as { '~standard'?: { validate?: unknown } } | null)?.['~standard'];
  return typeof props?.validate === 'function';
}

/**
 * Defines one version of an event.
 *
 * @param name dot-separated lowercase words, e.g. `'order.created'`.
 * @param version a positive integer (at most 1 000 000); the type is `${name}.v${version}`.
 * @param schema the payload's Standard Schema (a zod schema works as it is).
 *
 * @example
 * ```ts
 * const OrderCreated = defineEvent('order.created', 1, z.object({ orderId: z.string() }));
 * const event = OrderCreated.create({ orderId: 'o-1' }, { key: 'o-1' });
 * // event.type === 'order.created.v1'
 * ```
 */
export function defineEvent<
  const Name extends string,
  const Version extends number,
  Schema extends StandardSchemaV1,
>(
  name: Name,
  version: Version,
  schema: Schema,
): EventDefinition<
  `${Name}.v${Version}`,
  StandardSchemaV1.InferInput<Schema>,
  StandardSchemaV1.InferOutput<Schema>
> {
  const where = 'defineEvent()';
  parseOptions(
    v.object({
      name: v.string({ pattern: eventNamePattern, maxLength: 200 }),
      // Bounded: past 1e21 a number prints as `1e+21`, a type no consumer could parse.
      version: v.number({ min: 1, max: 1_000_000, integer: true }),
      schema: v.custom<Schema>(isStandardSchema, 'a Standard Schema (zod, valibot, v, …)'),
    }),
    { name, version, schema },
    where,
  );
  const type = `${name}.v${version}` as `${Name}.v${Version}`;
  type Input = StandardSchemaV1.InferInput<Schema>;

  function create(payload: Input, options: CreateEventOptions = {}): EventEnvelope<Input> {
    const opts = parseOptions(createOptionsSchema, options, `${type}.create()`);
    let result: StandardSchemaV1.Result<unknown> | Promise<StandardSchemaV1.Result<unknown>>;
    try {
      result = schema['~standard'].validate(payload);
    } catch (error) {
      // As decode() does: a schema that throws on this payload cannot accept it.
      if (isBallastError(error)) throw error;
      throw new BallastError('EVENT_INVALID', {
        message: `${type}.create(): the schema threw on the payload`,
        details: { type, reason: 'invalid-payload' },
        cause: error,
      });
    }
    if (result instanceof Promise) {
      // Zod answers a promise when a transform throws (it retries asynchronously): its rejection
      // must not go unhandled, a crash on Node.
      result.catch(() => {});
      throw new BallastError('INVALID_OPTIONS', {
        message: `${type}.create(): the payload schema answered asynchronously (an async schema, or a zod transform that threw); create() needs a synchronous answer`,
        details: { field: 'schema', type },
      });
    }
    if (result.issues !== undefined) {
      throw new BallastError('EVENT_INVALID', {
        message: `${type}.create(): invalid payload: ${issuesReason(result.issues)}`,
        details: { type, reason: 'invalid-payload', issues: issuesReason(result.issues) },
      });
    }
    const envelope: {
      -readonly [K in keyof EventEnvelope<Input>]: EventEnvelope<Input>[K];
    } = {
      type,
      id: opts.id ?? crypto.randomUUID(),
      occurredAt: (opts.occurredAt ?? new Date()).toISOString(),
      traceId: opts.traceId ?? generateTraceId(),
      payload,
    };
    if (opts.tenantId !== undefined) envelope.tenantId = opts.tenantId;
    if (opts.key !== undefined) envelope.key = opts.key;
    return envelope;
  }

  return Object.freeze({ name, version, type, schema, create }) as EventDefinition<
    `${Name}.v${Version}`,
    Input,
    StandardSchemaV1.InferOutput<Schema>
  >;
}
