import { describe, expect, it } from 'vitest';
import { isPostgresUrl } from './is-postgres-url.js';

describe('isPostgresUrl', () => {
  it.each([
    'postgres://postgres@127.0.0.1:5432/test',
    'postgresql://user:p%40ss@db.internal/app?sslmode=require',
    'postgres:///app',
  ])('takes %s', (url) => {
    expect(isPostgresUrl(url)).toBe(true);
  });

  it.each(['notaurl', 'host=db dbname=app', 'mysql://root@db/app', 'http://db:5432/app', ''])(
    'refuses %j',
    (url) => {
      expect(isPostgresUrl(url)).toBe(false);
    },
  );
});
