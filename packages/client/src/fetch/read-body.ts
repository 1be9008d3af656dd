/** Reading an answer's body, for a success and for an error answer alike. */

/**
 * The body of `response`: parsed JSON for a JSON content type (`application/json`,
 * `application/problem+json`, `…+json`), else its text; `undefined` when it is empty. A JSON
 * type with a body that is not JSON gives the text: a server that succeeded with a malformed
 * body must not turn a delivered write into a failure. (A 204 or 205 has no body: fetch gives
 * it a null one, whose text is empty.)
 */
export async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return undefined;
  const type = response.headers.get('content-type') ?? '';
  if (!/[/+]json\b/i.test(type)) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
