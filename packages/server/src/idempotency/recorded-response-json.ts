/**
 * The JSON text of a recorded response, written by hand: the guard hands it to the store with
 * the record, so a store that keeps JSON (the memory store) does not serialise the response
 * again. `JSON.stringify` copies every character of every string one at a time and looks up a
 * `toJSON` on every object; a response's strings are few and mostly need no escaping, so this
 * costs a fraction of it on every recorded request. The text is exactly what
 * `JSON.stringify(recorded)` writes (the tests hold it to that).
 */
import { jsonStringLiteral } from '@ballast/core/adapter-kit';
import type { RecordedResponse } from './recorded-response.js';

// The last header written: a route answers with one content type, response after response, so
// its JSON is usually written already.
let lastName = '';
let lastValue = '';
let lastHeaderJson = '["",""]';

function headerJson(name: string, value: string): string {
  if (name === lastName && value === lastValue) return lastHeaderJson;
  const json = `[${jsonStringLiteral(name)},${jsonStringLiteral(value)}]`;
  lastName = name;
  lastValue = value;
  lastHeaderJson = json;
  return json;
}

/**
 * `JSON.stringify(recorded)`, for a record built by `recordResponseWith`.
 *
 * @internal
 */
export function recordedResponseJson(recorded: RecordedResponse): string {
  const pairs = recorded.headers;
  let headers = '';
  for (let index = 0; index < pairs.length; index++) {
    const pair = pairs[index] as readonly [string, string];
    headers += (index === 0 ? '' : ',') + headerJson(pair[0], pair[1]);
  }
  const body = recorded.body;
  let bodyJson = 'null';
  if (body !== null) {
    const data = jsonStringLiteral(body.data);
    bodyJson =
      body.encoding === 'text'
        ? `{"encoding":"text","data":${data}}`
        : `{"encoding":${jsonStringLiteral(body.encoding)},"data":${data}}`;
  }
  // An integer status (always, from a framework) is written by String() as JSON writes it.
  const status = Number.isInteger(recorded.status)
    ? recorded.status
    : JSON.stringify(recorded.status);
  return `{"status":${status},"headers":[${headers}],"body":${bodyJson}}`;
}
