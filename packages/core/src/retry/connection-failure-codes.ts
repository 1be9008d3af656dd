/**
 * The error codes of a connection that could not be made or was lost (Node's `net` and `dns`,
 * undici): the request may never have reached the other side, or its answer was lost. One list
 * for every layer that tells an outage from a bug: retry's classifier, the server's 503 for an
 * unreachable dependency, the S3 adapter's transport failures.
 */
export const connectionFailureCodes: readonly string[] = [
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
];
