/**
 * Whether `url` is a `postgres://` (or `postgresql://`) URL. Any other string, node-postgres
 * reads as a host name, and fails later with "getaddrinfo ENOTFOUND base".
 */
export function isPostgresUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'postgres:' || protocol === 'postgresql:';
  } catch {
    return false;
  }
}
