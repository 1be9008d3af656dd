/**
 * Writing a web-standard `Response` (a problem, a health report) through Express's `res`, so the
 * decisions stay in `@ballast/server` and this adapter only translates.
 */
import type { Response as ExpressResponse } from 'express';

/** Sends `response`'s status, headers and body through `res`. @internal */
export async function sendWebResponse(res: ExpressResponse, response: Response): Promise<void> {
  res.status(response.status);
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie') res.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  res.end(Buffer.from(await response.arrayBuffer()));
}
