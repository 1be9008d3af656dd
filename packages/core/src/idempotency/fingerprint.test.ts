import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';
import { fingerprint, fingerprintInSameTick } from './fingerprint.js';

const post = (json: unknown) => fingerprint({ method: 'POST', path: '/sales', json });

/** A deep copy with every object's members in reverse (or rotated) order. */
function reorder(value: unknown, rotate: number): unknown {
  if (Array.isArray(value)) return value.map((item) => reorder(item, rotate));
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value).map(([k, v]) => [k, reorder(v, rotate)] as const);
  const shift = entries.length === 0 ? 0 : rotate % entries.length;
  const rotated = [...entries.slice(shift), ...entries.slice(0, shift)].reverse();
  return Object.fromEntries(rotated);
}

type Path = Array<string | number>;
function leafPaths(value: unknown, path: Path = []): Path[] {
  if (Array.isArray(value))
    return [path, ...value.flatMap((item, i) => leafPaths(item, [...path, i]))];
  if (typeof value === 'object' && value !== null) {
    return [path, ...Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...path, k]))];
  }
  return [path];
}
function replaceAt(value: unknown, path: Path, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  if (Array.isArray(value)) {
    return value.map((item, i) => (i === head ? replaceAt(item, rest, replacement) : item));
  }
  const copy = Object.fromEntries(Object.entries(value as object));
  copy[head as string] = replaceAt(copy[head as string], rest, replacement);
  return copy;
}

describe('fingerprint', () => {
  it('is the SHA-256 of a documented, versioned form (hex by default, base64url on request)', async () => {
    const expected = createHash('sha256')
      .update('ballast-idempotency-fingerprint/1\nPOST\n/sales?x=1\njson\n{"a":1,"b":[true,null]}')
      .digest();
    const input = { method: 'post', path: '/sales?x=1', json: { b: [true, null], a: 1 } };
    expect(await fingerprint(input)).toBe(expected.toString('hex'));
    expect(await fingerprint(input, { encoding: 'base64url' })).toBe(
      expected.toString('base64url'),
    );
  });

  it('gives the same fingerprint with any SHA-256 implementation (injected sync digest)', async () => {
    const sha256 = (message: Uint8Array) => createHash('sha256').update(message).digest();
    const input = { method: 'POST', path: '/sales', json: { total: 10, items: [1, 2] } };
    expect(await fingerprint(input, { sha256 })).toBe(await fingerprint(input));
    expect(await fingerprint(input, { sha256, encoding: 'base64url' })).toBe(
      await fingerprint(input, { encoding: 'base64url' }),
    );
  });

  it('gives the same fingerprint on the WebCrypto path that browsers, Deno and Workers take', async () => {
    // On Node the default digest is the native one; the other runtimes must agree with it.
    const webCrypto = async (message: Uint8Array) =>
      new Uint8Array(await crypto.subtle.digest('SHA-256', message as Uint8Array<ArrayBuffer>));
    for (const input of [
      { method: 'POST', path: '/sales?x=1', json: { total: 10, note: 'ñ' } },
      { method: 'PUT', path: '/files/a', body: new Uint8Array([0, 255, 7]) },
      { method: 'DELETE', path: '/files/a' },
    ]) {
      expect(await fingerprint(input, { sha256: webCrypto })).toBe(await fingerprint(input));
    }
  });

  it('hashes JSON text natively and as UTF-8 bytes alike, for any text (property)', async () => {
    const bytes = (message: Uint8Array) => createHash('sha256').update(message).digest('hex');
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary' }), fc.string(), async (text, path) => {
        const input = { method: 'POST', path: `/${encodeURIComponent(path)}`, json: { text } };
        expect(await fingerprint(input, { sha256: bytes })).toBe(await fingerprint(input));
      }),
    );
  });

  it('answers in the same tick on Node (fingerprintInSameTick); fingerprint() always promises', async () => {
    const input = { method: 'POST', path: '/sales', json: { total: 10 } };
    const now = fingerprintInSameTick(input);
    expect(typeof now).toBe('string');
    expect(now).toBe(await fingerprint(input));
    const invalid = fingerprint({ method: 'NOT A METHOD', path: '/' });
    expect(invalid).toBeInstanceOf(Promise);
    await expect(invalid).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    expect(() => fingerprintInSameTick({ method: 'NOT A METHOD', path: '/' })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
  });

  it('is stable under member order at any depth (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), fc.nat(), async (value, rotate) => {
        expect(await post(reorder(value, rotate))).toBe(await post(value));
      }),
    );
  });

  it('changes when any value anywhere changes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.jsonValue({ maxDepth: 4 }).chain((value) => {
          const paths = leafPaths(value);
          return fc.tuple(
            fc.constant(value),
            fc.constantFrom(...paths),
            fc.jsonValue({ maxDepth: 2 }),
          );
        }),
        async ([value, path, replacement]) => {
          const changed = replaceAt(value, path, replacement);
          fc.pre(canonicalJson(changed) !== canonicalJson(value));
          expect(await post(changed)).not.toBe(await post(value));
        },
      ),
    );
  });

  it('agrees exactly when the canonical JSON agrees (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), fc.jsonValue(), async (a, b) => {
        const same = canonicalJson(a) === canonicalJson(b);
        expect((await post(a)) === (await post(b))).toBe(same);
      }),
    );
  });

  it('tells types, null, missing members and array order apart', async () => {
    const prints = await Promise.all(
      [
        { a: 1 },
        { a: '1' },
        { a: null },
        {},
        { a: [1, 2] },
        { a: [2, 1] },
        { a: true },
        1,
        '1',
        null,
      ].map(post),
    );
    expect(new Set(prints).size).toBe(prints.length);
    // JSON `null` is a body; no JSON at all is no body.
    expect(await post(null)).not.toBe(await fingerprint({ method: 'POST', path: '/sales' }));
  });

  it('covers method and path (with query), normalised as the URL parser does', async () => {
    const base = await post({ a: 1 });
    expect(await fingerprint({ method: 'PATCH', path: '/sales', json: { a: 1 } })).not.toBe(base);
    expect(await fingerprint({ method: 'POST', path: '/sales/1', json: { a: 1 } })).not.toBe(base);
    expect(await fingerprint({ method: 'POST', path: '/sales?dry=1', json: { a: 1 } })).not.toBe(
      base,
    );
    expect(await fingerprint({ method: 'post', path: 'http://h:1/sales', json: { a: 1 } })).toBe(
      base,
    );
    expect(await fingerprint({ method: 'POST', path: '/a b', body: 'x' })).toBe(
      await fingerprint({ method: 'POST', path: '/a%20b', body: 'x' }),
    );
  });

  it('hashes raw bodies as bytes: text, ArrayBuffer and typed arrays agree; empty is no body', async () => {
    const bytes = new TextEncoder().encode('héllo');
    const fromText = await fingerprint({ method: 'POST', path: '/', body: 'héllo' });
    expect(await fingerprint({ method: 'POST', path: '/', body: bytes })).toBe(fromText);
    expect(await fingerprint({ method: 'POST', path: '/', body: bytes.slice().buffer })).toBe(
      fromText,
    );
    const padded = new Uint8Array([0, ...bytes, 0]).subarray(1, bytes.length + 1);
    expect(await fingerprint({ method: 'POST', path: '/', body: padded })).toBe(fromText);
    expect(await fingerprint({ method: 'POST', path: '/', body: '' })).toBe(
      await fingerprint({ method: 'POST', path: '/' }),
    );
    // The raw text of a JSON document and the parsed document are different kinds of body.
    expect(await fingerprint({ method: 'POST', path: '/', body: '{"a":1}' })).not.toBe(
      await fingerprint({ method: 'POST', path: '/', json: { a: 1 } }),
    );
  });

  it('takes a hex digest from the injected SHA-256 as well as bytes', async () => {
    const hex = (message: Uint8Array) => createHash('sha256').update(message).digest('hex');
    const input = { method: 'POST', path: '/sales', json: { total: 10 } };
    expect(await fingerprint(input, { sha256: hex })).toBe(await fingerprint(input));
    expect(await fingerprint(input, { sha256: hex, encoding: 'base64url' })).toBe(
      await fingerprint(input, { encoding: 'base64url' }),
    );
  });

  it('reads a target exactly as the URL parser does, fast path or not (property)', async () => {
    // Expected: the documented form, with the target parsed by the WHATWG URL parser.
    // A target the parser refuses (`//`, an empty host) is refused by both.
    const expected = (path: string) => {
      if (!URL.canParse(path, 'http://fingerprint.invalid')) return 'invalid';
      const url = new URL(path, 'http://fingerprint.invalid');
      return createHash('sha256')
        .update(`ballast-idempotency-fingerprint/1\nGET\n${url.pathname}${url.search}\nnone\n`)
        .digest('hex');
    };
    const sha256 = (message: Uint8Array) => createHash('sha256').update(message).digest('hex');
    const actual = (path: string) =>
      fingerprint({ method: 'GET', path }, { sha256 }).catch(() => 'invalid');
    const piece = fc.constantFrom(
      '/',
      '//',
      'a',
      'Z9',
      '.',
      '..',
      '%2e',
      '%2E',
      '%41',
      '?',
      '#',
      ' ',
      '"',
      "'",
      '<',
      '\\',
      '`',
      '{',
      '^',
      '|',
      '~',
      '-',
      '_',
      '!',
      '$',
      '&',
      '(',
      '*',
      '+',
      ',',
      ';',
      '=',
      ':',
      '@',
      'é',
    );
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 12 }), async (pieces) => {
        const path = `/${pieces.join('')}`;
        expect(await actual(path)).toBe(expected(path));
      }),
      { numRuns: 300 },
    );
    for (const path of ['/sales', '/sales?', '/sales?a=1&b=2', '/a/./b', '/a/%2E%2E/b', '//x/y']) {
      expect(await actual(path)).toBe(expected(path));
    }
  });

  it('refuses ambiguous or malformed input with INVALID_OPTIONS', async () => {
    await expect(
      fingerprint({ method: 'POST', path: '/', body: 'x', json: {} }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS', details: { field: 'json' } });
    await expect(fingerprint({ method: 'PO ST', path: '/' })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      details: { field: 'method' },
    });
    await expect(
      fingerprint({ method: 'POST', path: '/', body: 42 as unknown as string }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS', details: { field: 'body' } });
  });

  it('tells numbers apart that a double would merge, from the JSON text (jsonText)', async () => {
    const text = (jsonText: string) => fingerprint({ method: 'POST', path: '/sales', jsonText });
    expect(await text('{"amount":9007199254740993}')).not.toBe(
      await text('{"amount":9007199254740992}'),
    );
    expect(await text('{"amount":1e400}')).not.toBe(await text('{"amount":null}'));
    // Text whose numbers survive a double fingerprints as its parsed value does.
    expect(await text('{ "b": 1.50, "a": [1e2] }')).toBe(await post({ a: [100], b: 1.5 }));
    // Not JSON: the raw body; empty: no body.
    expect(await text('{oops')).toBe(
      await fingerprint({ method: 'POST', path: '/sales', body: '{oops' }),
    );
    expect(await text('')).toBe(await fingerprint({ method: 'POST', path: '/sales' }));
  });

  it('refuses a JSON body nested deeper than maxDepth with VALIDATION_FAILED (400)', async () => {
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    await expect(fingerprint({ method: 'POST', path: '/', jsonText: deep })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      status: 400,
    });
    await expect(
      fingerprint({ method: 'POST', path: '/', json: [[[1]]] }, { maxDepth: 2 }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { maxDepth: 2 } });
    await expect(
      fingerprint({ method: 'POST', path: '/', json: 1 }, { maxDepth: 0 }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS', details: { field: 'maxDepth' } });
  });
});
