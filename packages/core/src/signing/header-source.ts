/**
 * Reads headers the same way from a fetch `Headers` and from a plain object (Node's
 * `IncomingHttpHeaders`, a test's literal), so the verifier's answer never depends on which one
 * the caller had. Malformed input (an array, a number, two spellings of one name) is reported
 * as such, never thrown, so a hostile request gets a 403 with a code and not a 500.
 */
import type { HeaderSource } from './signing-config.js';

/** One header as read: its value (`undefined` when absent), or why it cannot be used. */
export type HeaderRead =
  | { readonly ok: true; readonly value: string | undefined }
  | { readonly ok: false; readonly reason: 'duplicate-header' | 'header-not-string' };

/** Looks up headers by lowercase name. */
export type HeaderReader = (lowercaseName: string) => HeaderRead;

const absent: HeaderRead = { ok: true, value: undefined };

const isFieldWhitespace = (code: number) => code === 0x20 || code === 0x09;

/**
 * Strips leading and trailing spaces and tabs. A scan, not `/[ \t]+$/`: that regex backtracks
 * quadratically over a long run of inner spaces, which a hostile header can send.
 */
function trimFieldValue(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isFieldWhitespace(value.charCodeAt(start))) start++;
  while (end > start && isFieldWhitespace(value.charCodeAt(end - 1))) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

function isHeaders(source: HeaderSource): source is Headers {
  return typeof (source as Headers).get === 'function';
}

/**
 * A reader over `source`. `joinDuplicates` decides what several values mean: `false` for the
 * signature's own headers (two timestamps are an attack or a bug: refuse), `true` for signed
 * headers, joined with `", "` exactly as a fetch `Headers` would join them.
 */
export function headerReader(source: HeaderSource | null | undefined): {
  single: HeaderReader;
  joined: HeaderReader;
} {
  if (source === null || typeof source !== 'object') {
    const none: HeaderReader = () => absent;
    return { single: none, joined: none };
  }
  if (isHeaders(source)) {
    const read: HeaderReader = (name) => ({ ok: true, value: source.get(name) ?? undefined });
    return { single: read, joined: read };
  }
  // A plain object: index it once by lowercase name, keeping every spelling's values.
  let index: Map<string, unknown[]> | undefined;
  const valuesOf = (name: string): unknown[] | undefined => {
    if (!index) {
      index = new Map();
      for (const key of Object.keys(source)) {
        const value: unknown = source[key];
        if (value === undefined) continue;
        const lower = key.toLowerCase();
        const values = index.get(lower) ?? [];
        if (Array.isArray(value)) values.push(...(value as unknown[]));
        else values.push(value);
        index.set(lower, values);
      }
    }
    return index.get(name);
  };
  const read =
    (joinDuplicates: boolean): HeaderReader =>
    (name) => {
      const values = valuesOf(name);
      if (values === undefined || values.length === 0) return absent;
      if (!values.every((value) => typeof value === 'string')) {
        return { ok: false, reason: 'header-not-string' };
      }
      // Trimmed as HTTP parsers and `Headers` trim field values (RFC 9110 §5.5).
      const strings = (values as string[]).map(trimFieldValue);
      if (strings.length === 1) return { ok: true, value: strings[0] };
      if (!joinDuplicates) return { ok: false, reason: 'duplicate-header' };
      return { ok: true, value: strings.join(', ') };
    };
  return { single: read(false), joined: read(true) };
}
