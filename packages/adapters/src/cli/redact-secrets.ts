/**
 * Passwords taken out of what the CLI prints. Commander quotes the token it refuses
 * (`unknown option '--databse-url=postgres://app:pw@db/prod'`), and a driver or a tool may quote
 * a connection string; stdout and stderr end up in cron logs and CI output, so no URL password
 * may reach them, whichever path printed it.
 */

// `scheme://user:password@`: the password runs to the last `@` before a space or a quote, so
// one typed without its `/`, `@` or `#` percent-encoded is hidden whole too (a host never holds
// an `@`; at worst more than the password is hidden).
const userinfoPassword = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:@/]*):[^\s"']*@/gi;
// `?password=…` or `&password=…`, which libpq and node-postgres read as well.
const passwordParameter = /([?&]password=)[^&\s'"]*/gi;

/** `text` with every URL password replaced by `***`. */
export function redactSecrets(text: string): string {
  return text.replace(userinfoPassword, '$1:***@').replace(passwordParameter, '$1***');
}
