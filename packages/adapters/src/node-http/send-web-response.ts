/**
 * Writing a web `Response` (a problem, a replay) through a Node framework's response object.
 * Express and Fastify name the three calls differently; this is the one place that copies a
 * `Response` onto them, `set-cookie` as a list so several cookies survive.
 */

/** The three calls a framework response offers, under whatever names it gives them. */
export interface WebResponseSink {
  status(code: number): unknown;
  header(name: string, value: string | string[]): unknown;
  end(body: Buffer): unknown;
}

/** Copies status, headers and body of `response` onto `sink`, and ends it. */
export async function sendWebResponse(sink: WebResponseSink, response: Response): Promise<void> {
  sink.status(response.status);
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie') sink.header(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) sink.header('set-cookie', cookies);
  sink.end(Buffer.from(await response.arrayBuffer()));
}
