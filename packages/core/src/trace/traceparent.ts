/**
 * The W3C `traceparent` header (Trace Context Level 1, version 00). Parsing is strict where
 * the spec is strict, because a header that is almost right is how a forged or corrupted id
 * gets into every log line: anything invalid yields `undefined`, and the caller starts a new
 * trace, which is what the spec asks for.
 */
import { assertObjectArgument } from '../options/invalid-argument.js';
import type { TraceContext } from './trace-context.js';
import { isValidSpanId, isValidTraceId } from './trace-ids.js';

/** The fields of a valid `traceparent` header. */
export interface Traceparent {
  /** Two lowercase hex digits; `'00'` is the only version defined so far. */
  readonly version: string;
  /** The trace id. */
  readonly traceId: string;
  /** The sender's span id: the parent of the receiver's span. */
  readonly parentId: string;
  /** The trace flags byte (bit 0 = sampled). */
  readonly flags: number;
  /** Whether the sender sampled the trace (flags bit 0). */
  readonly sampled: boolean;
}

const hexByte = /^[0-9a-f]{2}$/;
const version00Length = 55;

/**
 * Parses a `traceparent` value. Returns `undefined` for anything the spec calls invalid: wrong
 * length or separators, uppercase or non-hex digits, version `ff`, an all-zero trace or parent
 * id, or version 00 followed by extra data. A future version (01–fe) is read by its first four
 * fields when what follows is a `-`, as the spec's forward-compatibility rule says.
 *
 * @example
 * ```ts
 * parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
 * // { version: '00', traceId: '4bf9…', parentId: '00f0…', flags: 1, sampled: true }
 * ```
 */
export function parseTraceparent(value: string | null | undefined): Traceparent | undefined {
  if (typeof value !== 'string') return undefined;
  // Surrounding whitespace (OWS) is allowed around a header value; nothing else is.
  const header = value.trim();
  if (header.length < version00Length) return undefined;
  const version = header.slice(0, 2);
  if (!hexByte.test(version) || version === 'ff') return undefined;
  if (version === '00' && header.length !== version00Length) return undefined;
  if (header.length > version00Length && header[version00Length] !== '-') return undefined;
  if (header[2] !== '-' || header[35] !== '-' || header[52] !== '-') return undefined;
  const traceId = header.slice(3, 35);
  const parentId = header.slice(36, 52);
  const flagsHex = header.slice(53, 55);
  if (!isValidTraceId(traceId) || !isValidSpanId(parentId) || !hexByte.test(flagsHex)) {
    return undefined;
  }
  const flags = Number.parseInt(flagsHex, 16);
  return { version, traceId, parentId, flags, sampled: (flags & 1) === 1 };
}

/**
 * The `traceparent` value that announces `context`'s span to the next hop: version 00, this
 * span's id as the parent id, and the sampled flag.
 */
export function formatTraceparent(
  context: Pick<TraceContext, 'traceId' | 'spanId' | 'sampled'>,
): string {
  assertObjectArgument(context, 'formatTraceparent()', 'context', 'a TraceContext');
  return `00-${context.traceId}-${context.spanId}-${context.sampled ? '01' : '00'}`;
}
