import { describe, expect, it } from 'vitest';
import { connectionForChild } from './pg-dump-source.js';

describe('connectionForChild', () => {
  it('moves a password given in the userinfo to PGPASSWORD', () => {
    const { url, env } = connectionForChild('postgres://app:s%40cret@db.internal:5432/shop');
    expect(url).not.toContain('cret');
    expect(env.PGPASSWORD).toBe('s@cret');
  });

  it('moves a password given as a ?password= parameter to PGPASSWORD, off the command line', () => {
    // libpq (and node-postgres) accept the password as a query parameter too; left in the URL it
    // would reach pg_dump's argv, which `ps` shows to every user of the machine.
    const { url, env } = connectionForChild(
      'postgres://app@db.internal:5432/shop?options=-c%20search_path%3Dshop&password=s3cret',
    );
    expect(url).not.toContain('s3cret');
    // The other parameters reach libpq exactly as written (it decodes %20, not +).
    expect(url).toBe('postgres://app@db.internal:5432/shop?options=-c%20search_path%3Dshop');
    expect(env.PGPASSWORD).toBe('s3cret');
  });
});
