import { describe, expect, it } from 'vitest';
import { isUnreachableDependency } from './unreachable-dependency.js';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });
const postgres = (code: string) =>
  Object.assign(new Error('server said no'), { code, severity: 'FATAL' });

describe('isUnreachableDependency', () => {
  it.each([
    ['connection refused', withCode('ECONNREFUSED')],
    ['connection reset', withCode('ECONNRESET')],
    ['DNS failure', withCode('ENOTFOUND')],
    ['undici socket', withCode('UND_ERR_SOCKET')],
    ['Postgres connection failure (08006)', postgres('08006')],
    ['Postgres shutting down (57P01)', postgres('57P01')],
    ['Postgres starting up (57P03)', postgres('57P03')],
    ['Postgres out of connections (53300)', postgres('53300')],
    ['pg socket ended', new Error('Connection terminated unexpectedly')],
    ['pg-pool connect timeout', new Error('timeout exceeded when trying to connect')],
    ['ioredis closed', new Error('Connection is closed.')],
    [
      'ioredis out of retries',
      Object.assign(new Error('Reached the max retries per request limit (which is 1).'), {
        name: 'MaxRetriesPerRequestError',
      }),
    ],
    ['wrapped in cause', new Error('query failed', { cause: withCode('ECONNREFUSED') })],
  ])('recognises %s', (_, error) => {
    expect(isUnreachableDependency(error)).toBe(true);
  });

  it.each([
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a unique violation', postgres('23505')],
    ['a syntax error', postgres('42601')],
    ['a serialization failure', postgres('40001')],
    ['a message that only starts like an outage', new Error('Connection is closed. Also: x')],
    ['null', null],
    ['a string', 'ECONNREFUSED'],
    ['a number', 503],
  ])('leaves %s alone', (_, error) => {
    expect(isUnreachableDependency(error)).toBe(false);
  });
});
