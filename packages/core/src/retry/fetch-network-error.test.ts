import { describe, expect, it } from 'vitest';
import { isFetchNetworkError } from './fetch-network-error.js';

/** A `TypeError` as a runtime throws it, with or without a stack. */
function typeError(message: string, stack?: string): TypeError {
  const error = new TypeError(message);
  Object.defineProperty(error, 'stack', { value: stack, configurable: true });
  return error;
}

describe('isFetchNetworkError', () => {
  it.each([
    'network error',
    'NetworkError when attempting to fetch resource.',
    'The Internet connection appears to be offline.',
    'Network request failed',
    'fetch failed',
    'terminated',
    ' A network error occurred.',
    'Network connection lost',
    'Failed to fetch',
    'Failed to fetch (api.example.com)',
    'error sending request for url (https://api.example.com/): connection refused',
  ])('recognises the TypeError %j', (message) => {
    expect(isFetchNetworkError(typeError(message, 'TypeError: …'))).toBe(true);
  });

  it("recognises Safari's generic message only without a stack, or with Sentry's", () => {
    expect(isFetchNetworkError(typeError('Load failed'))).toBe(true);
    expect(isFetchNetworkError(typeError('Load failed (api.example.com)'))).toBe(true);
    expect(isFetchNetworkError(typeError('Load failed', 'at load (app.js:1:1)'))).toBe(false);
    const captured = Object.assign(typeError('Load failed', 'at Sentry'), {
      __sentry_captured__: true,
    });
    expect(isFetchNetworkError(captured)).toBe(true);
  });

  it.each([
    ['another TypeError (a bug)', typeError("Cannot read properties of undefined (reading 'x')")],
    ['a message that only starts like one', typeError('fetch failed twice')],
    ['a message with a line after it', typeError('Failed to fetch\nagain')],
    ['an unclosed host', typeError('Failed to fetch (api.example.com')],
    ['an Error of another name', new Error('Failed to fetch')],
    ['a lookalike object', { name: 'TypeError', message: 'Failed to fetch' }],
    ['a string', 'Failed to fetch'],
    ['undefined', undefined],
  ])('rejects %s', (_, error) => {
    expect(isFetchNetworkError(error)).toBe(false);
  });
});
