import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCatalogue } from './error-codes.js';

// The catalogue in docs/errors.md is what client developers branch on; it must not drift.
describe('docs/errors.md', () => {
  const docs = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');

  it.each(Object.entries(errorCatalogue))('documents %s with its status', (code, info) => {
    expect(docs).toMatch(new RegExp(`\\| \`${code}\` \\| ${info.status} \\|`));
  });
});
