/**
 * Whether an error is `fetch`'s network failure: a `TypeError` whose message is the one each
 * runtime uses when the request never got a response (the connection was refused or dropped,
 * DNS failed, the device is offline). Any other `TypeError` is a bug and must not be retried.
 *
 * The messages and rules are those of `is-network-error` 1.3.2 (MIT, Sindre Sorhus), which
 * core used to depend on; written as one pattern they weigh less in a browser bundle.
 */

/**
 * Chrome, Firefox, Safari 16, cross-fetch, undici (Node), Bun, Cloudflare Workers; Chrome's
 * `Failed to fetch (host)` and Deno's `error sending request for url …` too.
 */
const networkMessage =
  /^(network error|NetworkError when attempting to fetch resource\.|The Internet connection appears to be offline\.|Network request failed|fetch failed|terminated| A network error occurred\.|Network connection lost|Failed to fetch( \(.*\))?|error sending request for url.*)$/s;

/** Safari 17+: a generic message, told apart from other errors by having no stack. */
const safariMessage = /^Load failed( \(.*\))?$/s;

/** Whether `error` is a network failure of `fetch` in any runtime. */
export function isFetchNetworkError(error: unknown): boolean {
  if (Object.prototype.toString.call(error) !== '[object Error]') return false;
  const { name, message, stack } = error as Error;
  if (name !== 'TypeError' || typeof message !== 'string') return false;
  if (safariMessage.test(message)) {
    // Sentry adds its own stack to the error it captured.
    return stack === undefined || '__sentry_captured__' in (error as object);
  }
  return networkMessage.test(message);
}
