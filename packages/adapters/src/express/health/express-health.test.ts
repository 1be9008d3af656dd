import { describe, expect, it } from 'vitest';
import { type ExpressHealthOptions, expressHealth } from './express-health.js';

describe('expressHealth()', () => {
  it('refuses a missing or null options argument with INVALID_OPTIONS, never a TypeError', () => {
    for (const options of [undefined, null]) {
      expect(() => expressHealth(options as unknown as ExpressHealthOptions)).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTIONS' }),
      );
    }
  });
});
