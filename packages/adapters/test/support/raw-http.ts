/**
 * A raw HTTP client for adapter tests: sends header lists exactly as given (duplicates, odd
 * values) which `fetch` would merge or refuse, and returns status, headers and body text.
 */
import { request } from 'node:http';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json(): Record<string, unknown>;
}

/** Sends one request; `headers` is a list of [name, value] pairs, sent in order, duplicates kept. */
export function rawHttp(
  url: string,
  init: { method?: string; headers?: Array<[string, string]>; body?: string | Buffer } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    // With a raw header list Node adds nothing itself, so Host and Content-Length go in here.
    const body = init.body === undefined ? undefined : Buffer.from(init.body);
    const flat = [
      ['host', target.host],
      ...(body === undefined ? [] : [['content-length', String(body.length)]]),
      ...(init.headers ?? []),
    ].flat();
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: init.method ?? 'GET',
        headers: flat,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: () => JSON.parse(text) as Record<string, unknown>,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
