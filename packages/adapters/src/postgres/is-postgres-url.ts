/**
 * Whether `url` is a `postgres://` (or `postgresql://`) URL. Any other string, node-postgres
 * reads as a host name, and fails later with "getaddrinfo ENOTFOUND base". Its user name and
 * password must also decode: node-postgres tolerates a stray `%`, but the environment for
 * `pg_dump`/`pg_restore` (`PGPASSWORD`) cannot be built from it, so such a URL would pass
 * start-up and fail only when the nightly dump begins.
 */
export function isPostgresUrl(url: string): boolean {
  try {
    const { protocol, username, password } = new URL(url);
    decodeURIComponent(username);
    decodeURIComponent(password);
    return protocol === 'postgres:' || protocol === 'postgresql:';
  } catch {
    return false;
  }
}
