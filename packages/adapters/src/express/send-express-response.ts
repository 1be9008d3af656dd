/**
 * Express's response as a sink for the one Node writer of web `Response`s
 * (`node-http/send-web-response.ts`), so every Express adapter answers with the same headers,
 * `Set-Cookie` handling and body.
 */
import type { Response as ExpressResponse } from 'express';
import { sendWebResponse } from '../node-http/send-web-response.js';

/** Copies status, headers and body of `response` onto Express's `res`, and ends it. */
export function sendExpressResponse(res: ExpressResponse, response: Response): Promise<void> {
  return sendWebResponse(
    {
      status: (code) => res.status(code),
      header: (name, value) => res.setHeader(name, value),
      end: (body) => res.end(body),
    },
    response,
  );
}
