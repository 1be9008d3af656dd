/**
 * A fake API behind a fake `fetch`, for the client's unit tests: sales (`POST /sales`, with an
 * idempotency record per key as Ballast's middleware keeps one) and versioned products
 * (`PATCH /products/:id` with `If-Match`, answering 412 problem+json with `currentVersion` and
 * `current`). The network can be cut, and answers can be scripted to fail.
 */

export interface FakeApi {
  fetch: typeof fetch;
  /** Sales recorded, in order. */
  sales: Record<string, unknown>[];
  products: Map<string, { version: number; record: Record<string, unknown> }>;
  /** Customers created (`POST /customers`, ids from 101), and notes (`POST /notes`). */
  customers: Map<number, Record<string, unknown>>;
  notes: Record<string, unknown>[];
  /** Every request that reached the server: method, path and Idempotency-Key. */
  requests: { method: string; path: string; key: string | null; ifMatch: string | null }[];
  /** When false, fetch rejects like a browser with no network. */
  online: boolean;
  /** Answer the next N requests with 503 (and record nothing). */
  failNext(count: number, status?: number): void;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: {
      'content-type': status >= 400 ? 'application/problem+json' : 'application/json',
      ...headers,
    },
  });

export function createFakeApi(): FakeApi {
  const records = new Map<string, { status: number; body: unknown }>();
  let failures = 0;
  let failureStatus = 503;
  const api: FakeApi = {
    sales: [],
    products: new Map([
      ['p1', { version: 1, record: { name: 'Coffee', priceCents: 300, stock: 10 } }],
    ]),
    customers: new Map(),
    notes: [],
    requests: [],
    online: true,
    failNext(count, status = 503) {
      failures = count;
      failureStatus = status;
    },
    fetch: async (input, init) => {
      if (!api.online) throw new TypeError('Failed to fetch');
      const url = new URL(String(input));
      const method = init?.method ?? 'GET';
      const headers = new Headers(init?.headers);
      const key = headers.get('idempotency-key');
      api.requests.push({ method, path: url.pathname, key, ifMatch: headers.get('if-match') });
      if (failures > 0) {
        failures -= 1;
        return json(failureStatus, {
          code: 'UPSTREAM_ERROR',
          status: failureStatus,
          detail: 'down',
        });
      }
      if (url.pathname === '/health') return json(200, { status: 'ok' });
      const body = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined;
      if (key !== null && records.has(key)) {
        const recorded = records.get(key) as { status: number; body: unknown };
        return json(recorded.status, recorded.body, { 'idempotent-replayed': 'true' });
      }
      let answer: { status: number; body: unknown };
      if (method === 'POST' && url.pathname === '/sales') {
        if (typeof body?.quantity !== 'number' || body.quantity <= 0) {
          answer = {
            status: 422,
            body: {
              code: 'VALIDATION_FAILED',
              status: 422,
              detail: 'Insufficient stock for Coffee',
            },
          };
        } else {
          const sale = { id: api.sales.length + 1, ...body };
          api.sales.push(sale);
          answer = { status: 201, body: sale };
        }
      } else if (method === 'PATCH' && url.pathname.startsWith('/products/')) {
        const product = api.products.get(url.pathname.slice('/products/'.length));
        const ifMatch = headers.get('if-match');
        if (product === undefined)
          answer = { status: 404, body: { code: 'NOT_FOUND', status: 404 } };
        else if (ifMatch !== `"${product.version}"`) {
          answer = {
            status: 412,
            body: {
              code: 'PRECONDITION_FAILED',
              status: 412,
              detail: 'This record changed since you loaded it.',
              currentVersion: product.version,
              current: product.record,
            },
          };
        } else {
          product.version += 1;
          product.record = { ...product.record, ...body };
          answer = { status: 200, body: { ...product.record, version: product.version } };
        }
      } else if (method === 'POST' && url.pathname === '/customers') {
        const id = 101 + api.customers.size;
        api.customers.set(id, { ...body });
        answer = { status: 201, body: { id, ...body } };
      } else if (method === 'POST' && url.pathname === '/notes') {
        answer = api.customers.has(body?.customerId)
          ? { status: 201, body: { ...body } }
          : {
              status: 422,
              body: { code: 'VALIDATION_FAILED', status: 422, detail: 'No such customer' },
            };
        if (answer.status === 201) api.notes.push({ ...body });
      } else if (method === 'PATCH' && url.pathname.startsWith('/customers/')) {
        const customer = api.customers.get(Number(url.pathname.slice('/customers/'.length)));
        if (customer === undefined)
          answer = { status: 404, body: { code: 'NOT_FOUND', status: 404 } };
        else {
          Object.assign(customer, body);
          answer = { status: 200, body: customer };
        }
      } else {
        answer = { status: 404, body: { code: 'NOT_FOUND', status: 404 } };
      }
      if (key !== null) records.set(key, answer);
      return json(answer.status, answer.body);
    },
  };
  return api;
}
