import { describe, expect, it } from 'vitest';
import { createOwnerTokenSource } from './owner-token.js';

describe('createOwnerTokenSource', () => {
  it('never repeats a token, within a source or across sources (processes)', () => {
    const sources = [createOwnerTokenSource(), createOwnerTokenSource()];
    const tokens = new Set<string>();
    for (const next of sources) for (let index = 0; index < 10_000; index++) tokens.add(next());
    expect(tokens.size).toBe(20_000);
  });

  it('spells a token as 128 random bits in base64url, a dot and a base-36 counter', () => {
    const next = createOwnerTokenSource();
    const [first, second] = [next(), next()];
    expect(first).toMatch(/^[A-Za-z0-9_-]{22}\.0$/);
    expect(second).toBe(`${first?.slice(0, 22)}.1`);
  });
});
