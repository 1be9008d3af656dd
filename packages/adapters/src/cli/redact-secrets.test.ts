import { describe, expect, it } from 'vitest';
import { redactSecrets } from './redact-secrets.js';

describe('redactSecrets', () => {
  it('hides the password of a URL and keeps the rest readable', () => {
    expect(
      redactSecrets("unknown option '--databse-url=postgres://app:hunter2@db:5432/prod'"),
    ).toBe("unknown option '--databse-url=postgres://app:***@db:5432/prod'");
    expect(redactSecrets('s3 at http://key:s%2Fcret@minio:9000 failed')).toBe(
      's3 at http://key:***@minio:9000 failed',
    );
  });

  it('hides a password typed with its /, @ or # not percent-encoded', () => {
    expect(redactSecrets("'--databse-url=postgres://app:pa/ss@w#rd@db/prod'")).toBe(
      "'--databse-url=postgres://app:***@db/prod'",
    );
    expect(redactSecrets('{"url":"postgres://app:a@b@db/prod","other":"x@y"}')).toBe(
      '{"url":"postgres://app:***@db/prod","other":"x@y"}',
    );
  });

  it('hides a password given as a query parameter', () => {
    expect(redactSecrets('postgres://app@db/prod?sslmode=require&password=hunter2&x=1')).toBe(
      'postgres://app@db/prod?sslmode=require&password=***&x=1',
    );
  });

  it('leaves text without a password as it is', () => {
    for (const text of [
      'postgres://app@db/prod',
      'backup 20261204T020000Z-3f9a1c failed: pg_dump exited with code 1',
      'user@example.com: a:b',
    ]) {
      expect(redactSecrets(text)).toBe(text);
    }
  });
});
