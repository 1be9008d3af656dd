/**
 * The offline point of sale's server: the express-sales API (`POST /sales` with a required
 * `Idempotency-Key`, on Postgres or PGlite) plus what a till page needs around it — a stock
 * check that rejects a sale with 422 and a message for the cashier, versioned products edited
 * with `If-Match` (412 with the current version when stale), `/health` for the connectivity
 * ping, signed uploads of receipts (see uploads.ts), and the page itself with its script
 * bundled from TypeScript on start.
 */
import { fileURLToPath } from 'node:url';
import { expressErrorHandler, expressIdempotency } from '@ballast/adapters/express';
import { BallastError, MemoryIdempotencyStore, registerMessages, toProblem } from '@ballast/core';
import { assertIfMatch } from '@ballast/server';
import { build } from 'esbuild';
import express, { type Express, type RequestHandler } from 'express';
import { createSalesApp, type SalesAppOptions } from '../../express-sales/src/app.js';
import { pageHtml } from './page/page-html.js';
import { mountUploads, type UploadRoutes } from './uploads.js';

registerMessages('en', { INSUFFICIENT_STOCK: 'Not enough stock for this sale.' });

const fromHere = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** Bundles the page script (plain TypeScript, no framework) with @ballast/client from source. */
export async function bundlePage(): Promise<string> {
  const result = await build({
    entryPoints: [fromHere('./page/main.ts')],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    write: false,
    minify: true,
    alias: {
      '@ballast/client': fromHere('../../../packages/client/src/index.ts'),
      '@ballast/core/adapter-kit': fromHere('../../../packages/core/src/adapter-kit/index.ts'),
      '@ballast/core': fromHere('../../../packages/core/src/index.ts'),
    },
  });
  return result.outputFiles[0]?.text ?? '';
}

interface Product {
  version: number;
  record: { name: string; priceCents: number; stock: number };
}

/** Options of {@link createPosApp}. */
export interface PosAppOptions extends SalesAppOptions {
  /** The bundled page script, from {@link bundlePage}. */
  script: string;
}

/** The till's server, with what the tests look at. */
export type PosApp = Express & {
  products: Map<string, Product>;
  customers: Map<number, { name: string }>;
  notes: { customerId: number; text: string }[];
  uploads: UploadRoutes;
};

const editable: Record<string, (value: unknown) => boolean> = {
  name: (value) => typeof value === 'string' && value.length > 0 && value.length <= 200,
  priceCents: (value) => Number.isSafeInteger(value) && (value as number) >= 0,
  stock: (value) => Number.isSafeInteger(value) && (value as number) >= 0,
  description: (value) => typeof value === 'string' && value.length <= 1_000,
  tags: (value) =>
    Array.isArray(value) &&
    value.length <= 20 &&
    value.every((tag) => typeof tag === 'string' && tag.length <= 50),
};

/** A product edit's fields when each is known and well-typed, else `undefined`. */
function productChanges(body: unknown): Partial<Product['record']> | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const entries = Object.entries(body);
  const valid = entries.every(
    ([name, value]) => Object.hasOwn(editable, name) && editable[name]?.(value),
  );
  return valid ? (Object.fromEntries(entries) as Partial<Product['record']>) : undefined;
}

/** The till's server: page, health, stock-checked sales, versioned products, customers and uploads. */
export function createPosApp(options: PosAppOptions): PosApp {
  const app = express() as PosApp;
  const products = new Map<string, Product>([
    ['coffee', { version: 1, record: { name: 'Coffee', priceCents: 350, stock: 1_000_000 } }],
    ['croissant', { version: 1, record: { name: 'Croissant', priceCents: 220, stock: 0 } }],
  ]);
  app.products = products;

  app.get('/', (_req, res) => {
    res.type('html').send(pageHtml);
  });
  app.get('/pos.js', (_req, res) => {
    res.type('text/javascript').send(options.script);
  });
  app.get('/health', (_req, res) => {
    res
      .set('cache-control', 'no-store')
      .json({ status: 'ok', timestamp: new Date().toISOString() });
  });

  const problem =
    (error: BallastError): RequestHandler =>
    (req, res) => {
      res
        .status(error.status)
        .type('application/problem+json')
        .send(JSON.stringify(toProblem(error, { instance: req.originalUrl })));
    };

  // The stock rule of seed 002 §3.1: a sale queued offline may meet an empty shelf on the
  // server; it is rejected with 422 and a message the cashier can act on.
  app.post('/sales', express.json({ limit: '64kb' }), (req, res, next) => {
    const product = products.get(String(req.body?.item ?? '').toLowerCase());
    if (product !== undefined && product.record.stock < Number(req.body?.quantity ?? 0)) {
      problem(
        new BallastError('INSUFFICIENT_STOCK', {
          status: 422,
          details: { item: req.body.item, available: product.record.stock },
        }),
      )(req, res, next);
      return;
    }
    next();
  });

  // Product edits: optimistic locking over ETag / If-Match, idempotent like the sales.
  const idempotent = expressIdempotency({
    store: new MemoryIdempotencyStore(),
    scope: (req) => req.get('x-till-id') ?? 'global',
  });
  app.get('/products/:id', (req, res, next) => {
    const product = products.get(String(req.params.id));
    if (product === undefined) return problem(new BallastError('NOT_FOUND'))(req, res, next);
    res.set('etag', `"${product.version}"`).json({ ...product.record, version: product.version });
  });
  app.patch('/products/:id', express.json({ limit: '16kb' }), idempotent, (req, res, next) => {
    const product = products.get(String(req.params.id));
    if (product === undefined) return problem(new BallastError('NOT_FOUND'))(req, res, next);
    // The server kit's read-then-compare check, not a string comparison: `*` and a list naming
    // the current version match (RFC 9110 §13.1.1); 428 without the header, 400 for a malformed
    // one, 412 with the current product otherwise (thrown to expressErrorHandler()).
    assertIfMatch(req.get('if-match'), product.version, { current: product.record });
    const changes = productChanges(req.body);
    if (changes === undefined) {
      return problem(
        new BallastError('VALIDATION_FAILED', {
          message:
            'Send only name, description, tags (text), priceCents and stock (whole numbers, not negative).',
        }),
      )(req, res, next);
    }
    product.record = { ...product.record, ...changes };
    product.version += 1;
    res.set('etag', `"${product.version}"`).json({ ...product.record, version: product.version });
  });

  // Customers registered at the till (offline too: the page gives them a temporary id) and
  // notes about them, which must name a customer the server knows.
  const customers = new Map<number, { name: string }>();
  const notes: { customerId: number; text: string }[] = [];
  app.customers = customers;
  app.notes = notes;
  app.post('/customers', idempotent, express.json({ limit: '4kb' }), (req, res, next) => {
    const name = req.body?.name;
    if (typeof name !== 'string' || name.length === 0 || name.length > 200) {
      return problem(new BallastError('VALIDATION_FAILED'))(req, res, next);
    }
    const id = customers.size + 1;
    customers.set(id, { name });
    res.status(201).json({ id, name });
  });
  app.post('/notes', idempotent, express.json({ limit: '4kb' }), (req, res, next) => {
    const { customerId, text } = req.body ?? {};
    if (!customers.has(customerId) || typeof text !== 'string') {
      return problem(new BallastError('VALIDATION_FAILED'))(req, res, next);
    }
    notes.push({ customerId, text });
    res.status(201).json({ customerId, text });
  });

  app.uploads = mountUploads(app);
  app.use(createSalesApp(options));
  // Body-parser refusals (malformed JSON, a body over the limit) of the routes above reach
  // here: problem+json instead of Express's HTML page with the stack trace.
  app.use(expressErrorHandler());
  return app;
}
