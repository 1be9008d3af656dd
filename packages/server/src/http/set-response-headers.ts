/**
 * Adding headers to a response a handler returned. A `Response` from `fetch()` or
 * `Response.redirect()` has immutable headers; rather than fail the request over a header, the
 * response is re-wrapped (same body stream, status and headers) and the copy gets them.
 */

/**
 * Returns `response` with `headers` set, unless the handler already set a header of that name
 * (the handler's choice wins). Re-wraps the response when its headers are immutable.
 *
 * @internal
 */
export function setResponseHeaders(response: Response, headers: Record<string, string>): Response {
  const missing = Object.entries(headers).filter(([name]) => !response.headers.has(name));
  if (missing.length === 0 || response.type === 'error') return response;
  try {
    for (const [name, value] of missing) response.headers.set(name, value);
    return response;
  } catch {
    // Immutable headers (the guard is "immutable" for fetched and redirect responses).
    const copy = new Response(response.body, response);
    for (const [name, value] of missing) copy.headers.set(name, value);
    return copy;
  }
}
