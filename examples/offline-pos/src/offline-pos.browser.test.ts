/**
 * The write queue's promise, proven in Debian Chromium against the real till server (express,
 * Ballast's idempotency middleware, sales in PGlite): a sale made offline or on a flaky network
 * is never lost and never recorded twice, across reloads, closed tabs and several tabs. Each
 * test gets its own browser context (its own IndexedDB) and its own item names, so counts in
 * the shared database never mix.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPGlite } from '../../../packages/adapters/test/support/fresh-pglite.js';
import { openDatabase } from '../../express-sales/src/database.js';
import { bundlePage, createPosApp } from './pos-server.js';

const chromiumPath = '/usr/bin/chromium';
const hasChromium = existsSync(chromiumPath);
const screenshots = process.env.BALLAST_SCREENSHOTS === '1';
// CI runs the flapping test with 100 writes; BALLAST_STRESS=1 runs the 500.
const flappingWrites = process.env.BALLAST_STRESS === '1' ? 500 : 100;
const imageDir = fileURLToPath(new URL('../../../docs/img/', import.meta.url));

if (!hasChromium && process.env.CI === 'true') {
  throw new Error(`${chromiumPath} is missing, and CI=true forbids skipping the browser tests.`);
}
if (!hasChromium)
  console.warn(`[ballast tests] skipped offline-pos browser tests: no ${chromiumPath}.`);

declare global {
  // The page exposes its objects as `pos` (see page/main.ts).
  var pos: {
    queue: import('@ballast/client').WriteQueue;
    uploads: import('@ballast/client').UploadQueue;
    client: import('@ballast/client').Client;
    connectivity: import('@ballast/client').Connectivity;
    loadProduct(id: string): Promise<void>;
  };
  var ballast: {
    uploadFile: typeof import('@ballast/client').uploadFile;
    createTemporaryId: typeof import('@ballast/client').createTemporaryId;
  };
}

describe.skipIf(!hasChromium)('offline POS in Chromium', () => {
  let browser: Browser;
  let server: Server;
  let origin: string;
  let database: Awaited<ReturnType<typeof openDatabase>>;
  let app: ReturnType<typeof createPosApp>;

  beforeAll(async () => {
    database = await openDatabase(freshPGlite());
    app = createPosApp({ db: database.db, script: await bundlePage() });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    await database?.db.destroy();
  });

  /** Sales recorded under `item`, and how many distinct keys recorded them. */
  async function salesOf(item: string): Promise<number> {
    const result = await sql<{
      n: number;
    }>`select count(*)::int as n from sales where item = ${item}`.execute(database.db);
    return Number(result.rows[0]?.n ?? 0);
  }

  /** Cuts the API (not the page itself, so it can still be reloaded): every API call fails. */
  async function cutApi(context: BrowserContext) {
    await context.route(/\/(sales|products|health|uploads|storage|customers|notes)/, (route) =>
      route.abort('internetdisconnected'),
    );
  }
  async function restoreApi(context: BrowserContext) {
    await context.unrouteAll({ behavior: 'ignoreErrors' });
  }

  async function openTill(context: BrowserContext): Promise<Page> {
    const page = await context.newPage();
    await page.goto(origin);
    await page.waitForFunction(() => globalThis.pos !== undefined);
    await page.evaluate(() => pos.queue.ready);
    return page;
  }

  async function queueSales(page: Page, item: string, count: number) {
    return page.evaluate(
      async ({ item, count }) => {
        const results = [];
        for (let i = 0; i < count; i++) {
          results.push(
            await pos.queue.send({
              path: '/sales',
              body: { item, quantity: 1 + (i % 5), unitPriceCents: 100 },
              priority: 'high',
            }),
          );
        }
        return results.filter((result) => result.queued).length;
      },
      { item, count },
    );
  }

  const pendingIn = (page: Page) => page.evaluate(() => pos.queue.pendingCount);
  async function waitForPending(page: Page, expected: number, timeout = 20_000) {
    await page.waitForFunction((n) => pos.queue.pendingCount === n, expected, { timeout });
  }

  it('50 sales offline, two reloads, a second tab, back online: exactly 50 on the server, 0 pending in both tabs', async () => {
    const context = await browser.newContext();
    const page = await openTill(context);
    await cutApi(context);
    await context.setOffline(true);
    expect(await queueSales(page, 'e2e-fifty', 50)).toBe(50);
    await waitForPending(page, 50);
    if (screenshots) await page.screenshot({ path: `${imageDir}offline-pos-offline.png` });
    // The page can reload while the API stays unreachable: start-up replay meets a dead API.
    await context.setOffline(false);
    await page.reload();
    await page.waitForFunction(() => globalThis.pos !== undefined);
    await page.reload();
    await page.waitForFunction(() => globalThis.pos !== undefined);
    await waitForPending(page, 50);
    const second = await openTill(context);
    await waitForPending(second, 50);
    expect(await salesOf('e2e-fifty')).toBe(0);

    await restoreApi(context);
    await waitForPending(page, 0);
    await waitForPending(second, 0);
    expect(await salesOf('e2e-fifty')).toBe(50);
    if (screenshots) await page.screenshot({ path: `${imageDir}offline-pos-online.png` });
    await context.close();
  });

  it('a sale the server rejects (422) shows as failed with the server message', async () => {
    const context = await browser.newContext();
    const page = await openTill(context);
    await cutApi(context);
    await context.setOffline(true);
    await page.fill('#item', 'croissant'); // out of stock on the server
    await page.click('#register');
    await page.waitForFunction(() => pos.queue.pendingCount === 1);
    await context.setOffline(false);
    await restoreApi(context);
    await page.waitForFunction(() => pos.queue.counts.failed === 1, undefined, { timeout: 20_000 });
    const [write] = await page.evaluate(() => pos.queue.list());
    expect(write).toMatchObject({
      state: 'failed',
      error: {
        code: 'INSUFFICIENT_STOCK',
        status: 422,
        message: 'Not enough stock for this sale.',
      },
    });
    await expect
      .poll(() => page.textContent('#pending li .error'))
      .toBe('Could not send: Not enough stock for this sale.');
    // Sent online, the rejection reaches the cashier at once and nothing is queued.
    await page.click('#register');
    await expect
      .poll(() => page.textContent('#notice'))
      .toContain('Not enough stock for this sale.');
    await context.close();
  });

  it('a sale answered with a redirect to a login page stays queued, and is delivered once when the session is back', async () => {
    const context = await browser.newContext();
    const page = await openTill(context);
    const seen: string[] = [];
    // An SSO proxy whose session expired: every write is sent to its login page.
    await context.route(/\/sales$/, (route) =>
      route.fulfill({ status: 302, headers: { location: `${origin}/login` } }),
    );
    await context.route(/\/login$/, (route) => {
      seen.push(route.request().method());
      return route.fulfill({ status: 200, contentType: 'text/html', body: '<form>Sign in</form>' });
    });
    const result = await page.evaluate(() =>
      pos.queue.send({
        path: '/sales',
        body: { item: 'e2e-redirect', quantity: 1, unitPriceCents: 100 },
      }),
    );
    // Not followed (fetch would GET the login page and its 200 would pass for the sale's).
    expect(result).toMatchObject({ queued: true, state: 'pending' });
    expect(seen).toEqual([]);
    expect(await salesOf('e2e-redirect')).toBe(0);
    await restoreApi(context);
    await page.evaluate(() => pos.queue.flush());
    await waitForPending(page, 0);
    expect(await salesOf('e2e-redirect')).toBe(1);
    await context.close();
  });

  it('a stale edit becomes a conflict; "Keep mine" and "Keep theirs" do what they say', async () => {
    const context = await browser.newContext();
    const page = await openTill(context);
    await page.evaluate(() => pos.loadProduct('coffee'));
    const coffee = app.products.get('coffee');
    if (coffee === undefined) throw new Error('no coffee');
    await cutApi(context);
    await context.setOffline(true);
    await page.fill('#product-price', '400');
    await page.click('#edit');
    await page.waitForFunction(() => pos.queue.pendingCount === 1);
    // Meanwhile another till changes the coffee.
    coffee.version += 1;
    coffee.record = { ...coffee.record, stock: coffee.record.stock - 1 };
    await context.setOffline(false);
    await restoreApi(context);
    await page.waitForFunction(() => pos.queue.counts.conflict === 1, undefined, {
      timeout: 20_000,
    });
    const [parked] = await page.evaluate(() => pos.queue.list());
    expect(parked?.conflict?.currentVersion).toBe(coffee.version);
    await page.waitForSelector('#pending li[data-state="conflict"]');
    if (screenshots) await page.screenshot({ path: `${imageDir}offline-pos-conflict.png` });
    await page.click('#pending li[data-state="conflict"] button:has-text("Keep mine")');
    await page.waitForFunction(() => pos.queue.counts.total === 0);
    expect(coffee.record.priceCents).toBe(400);
    const mineVersion = coffee.version;

    // Second stale edit (still made against the old version): keep theirs drops it.
    await page.fill('#product-price', '999');
    await page.click('#edit');
    await page.waitForFunction(() => pos.queue.counts.conflict === 1, undefined, {
      timeout: 20_000,
    });
    await page.click('#pending li[data-state="conflict"] button:has-text("Keep theirs")');
    await page.waitForFunction(() => pos.queue.counts.total === 0);
    expect(coffee.record.priceCents).toBe(400);
    expect(coffee.version).toBe(mineVersion);
    await context.close();
  });

  it(`network flapping every 200 ms during ${flappingWrites} queued writes: each delivered exactly once`, async () => {
    const context = await browser.newContext();
    const page = await openTill(context);
    await context.setOffline(true);
    const started = Date.now();
    expect(await queueSales(page, 'e2e-flap', flappingWrites)).toBe(flappingWrites);
    console.log(`[offline-pos] queued ${flappingWrites} writes in ${Date.now() - started} ms`);
    let offline = true;
    const flapping = setInterval(() => {
      offline = !offline;
      void context.setOffline(offline).catch(() => undefined);
    }, 200);
    try {
      // Flap until a fifth has gone through the flapping network.
      await page.waitForFunction((n) => pos.queue.pendingCount < n, flappingWrites * 0.8, {
        timeout: 60_000,
      });
    } finally {
      clearInterval(flapping);
    }
    await context.setOffline(false);
    await waitForPending(page, 0, 60_000);
    expect(await salesOf('e2e-flap')).toBe(flappingWrites);
    await context.close();
  }, 180_000);

  it('closing the tab with 20 queued writes and an edit: reopened online, each delivered once, the edit whole', async () => {
    const context = await browser.newContext();
    const page = await openTill(context);
    await page.evaluate(() => pos.loadProduct('coffee'));
    await cutApi(context);
    await context.setOffline(true);
    expect(await queueSales(page, 'e2e-closed-tab', 20)).toBe(20);
    const coffee = app.products.get('coffee');
    const changes = { priceCents: 410, description: 'Single origin', tags: ['hot', 'new'] };
    await page.evaluate(
      ({ version, changes }) =>
        pos.queue.send({
          method: 'PATCH',
          path: '/products/coffee',
          version,
          base: { name: 'Coffee' },
          body: changes,
        }),
      { version: coffee?.version ?? 0, changes },
    );
    await page.close();
    await context.setOffline(false);
    const reopened = await context.newPage();
    await reopened.goto(origin);
    await reopened.waitForFunction(() => globalThis.pos !== undefined);
    const queued = await reopened.evaluate(() => pos.queue.list());
    expect(queued).toHaveLength(21);
    expect(queued.find((write) => write.method === 'PATCH')?.body).toEqual(changes);
    await restoreApi(context);
    await waitForPending(reopened, 0);
    expect(await salesOf('e2e-closed-tab')).toBe(20);
    expect(coffee?.record).toMatchObject({ priceCents: 410, description: 'Single origin' });
    await context.close();
  });

  it('a write made offline in a second, non-flushing tab is persisted and delivered by the other', async () => {
    const context = await browser.newContext();
    const first = await openTill(context);
    const second = await openTill(context);
    await cutApi(context);
    await context.setOffline(true);
    expect(await queueSales(second, 'e2e-second-tab', 3)).toBe(3);
    await waitForPending(first, 3);
    await second.close();
    await context.setOffline(false);
    await restoreApi(context);
    await waitForPending(first, 0);
    expect(await salesOf('e2e-second-tab')).toBe(3);
    await context.close();
  });

  /** Confirmed objects in the example's store (staged copies excluded), with their SHA-256. */
  async function confirmedObjects(): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    for (const key of app.uploads.objects.keys()) {
      if (key.includes('.upload-')) continue;
      const object = await app.uploads.objects.get(key);
      const bytes = Buffer.from(await new Response(object?.body).arrayBuffer());
      found.set(key, createHash('sha256').update(bytes).digest('base64'));
    }
    return found;
  }
  const newKeys = (before: Map<string, string>, after: Map<string, string>) =>
    [...after.keys()].filter((key) => !before.has(key));

  it('uploadFile: progress events over XHR, a PUT retried after a 503, confirmed once', async () => {
    const context = await browser.newContext();
    const page = await openTill(context);
    const calls = { ...app.uploads.calls };
    const before = await confirmedObjects();
    app.uploads.failPuts(1);
    const result = await page.evaluate(async () => {
      const bytes = new Uint8Array(3 * 1024 * 1024);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) & 255;
      const file = new File([bytes], 'scan.pdf', { type: 'application/pdf' });
      const progress: { loaded: number; total: number; attempt: number }[] = [];
      const retries: { attempt: number; code: string }[] = [];
      const uploaded = await ballast.uploadFile(file, {
        client: pos.client,
        requestUrl: '/uploads',
        confirmUrl: '/uploads/confirm',
        retryDelaysMs: [200],
        on: {
          progress: (event) => progress.push(event),
          retry: ({ attempt, error }) => retries.push({ attempt, code: error.code }),
        },
      });
      return { ...uploaded, progress, retries };
    });
    const total = 3 * 1024 * 1024;
    expect(result.attempts).toBe(2);
    expect(result.retries).toEqual([{ attempt: 1, code: 'UPLOAD_FAILED' }]);
    const second = result.progress.filter((event) => event.attempt === 2);
    expect(second.length).toBeGreaterThan(0);
    expect(second.at(-1)).toEqual({ loaded: total, total, attempt: 2 });
    expect(result.data).toMatchObject({ name: 'scan.pdf', status: 'active', size: total });
    expect(app.uploads.calls).toEqual({
      request: calls.request + 1,
      put: calls.put + 2,
      confirm: calls.confirm + 1,
    });
    const after = await confirmedObjects();
    const [key] = newKeys(before, after);
    expect(newKeys(before, after)).toHaveLength(1);
    expect(after.get(key ?? '')).toBe(result.checksumSha256);
    await context.close();
  });

  it('a receipt attached offline survives a reload and is uploaded once when the network returns', async () => {
    const context = await browser.newContext();
    const page = await openTill(context);
    const calls = { ...app.uploads.calls };
    const before = await confirmedObjects();
    await cutApi(context);
    await context.setOffline(true);
    const content = Buffer.alloc(200_000, 7);
    await page.setInputFiles('#file', {
      name: 'receipt.png',
      mimeType: 'image/png',
      buffer: content,
    });
    await page.click('#attach');
    await page.waitForFunction(() => pos.uploads.pendingCount === 1);
    await context.setOffline(false);
    await page.reload();
    await page.waitForFunction(() => globalThis.pos !== undefined);
    await page.evaluate(() => pos.uploads.ready);
    const queued = await page.evaluate(async () =>
      (await pos.uploads.list()).map((upload) => ({
        name: upload.name,
        size: upload.file.size,
        type: upload.contentType,
      })),
    );
    expect(queued).toEqual([{ name: 'receipt.png', size: content.length, type: 'image/png' }]);
    expect(app.uploads.calls.confirm).toBe(calls.confirm);

    await restoreApi(context);
    await page.waitForFunction(() => pos.uploads.pendingCount === 0, undefined, {
      timeout: 30_000,
    });
    expect(app.uploads.calls.confirm).toBe(calls.confirm + 1);
    const after = await confirmedObjects();
    const added = newKeys(before, after);
    expect(added).toHaveLength(1);
    expect(after.get(added[0] ?? '')).toBe(createHash('sha256').update(content).digest('base64'));
    await expect.poll(() => page.textContent('#notice')).toBe('Receipt receipt.png uploaded.');
    await context.close();
  });

  it('a customer created offline with a temporary id: a note about it, a reload, then both delivered with the server id', async () => {
    const context = await browser.newContext();
    const page = await openTill(context);
    await cutApi(context);
    await context.setOffline(true);
    const temporaryId = await page.evaluate(async () => {
      const customer = ballast.createTemporaryId();
      // The note is more urgent than the creation, yet must wait for it.
      await pos.queue.send({
        path: '/notes',
        body: { customerId: customer, text: 'e2e-temp-id' },
        priority: 'high',
      });
      await pos.queue.send({
        path: '/customers',
        body: { name: 'e2e Ana' },
        temporaryId: customer,
        priority: 'low',
      });
      return customer;
    });
    await waitForPending(page, 2);
    await context.setOffline(false);
    await page.reload();
    await page.waitForFunction(() => globalThis.pos !== undefined);
    await waitForPending(page, 2);
    await restoreApi(context);
    await waitForPending(page, 0, 30_000);
    const id = [...app.customers].find(([, customer]) => customer.name === 'e2e Ana')?.[0];
    expect(id).toBeTypeOf('number');
    expect(app.notes.filter((note) => note.text === 'e2e-temp-id')).toEqual([
      { customerId: id, text: 'e2e-temp-id' },
    ]);
    expect(JSON.stringify(app.notes)).not.toContain(temporaryId);
    await context.close();
  });

  it('a double click on "Register sale" records one sale', async () => {
    const context = await browser.newContext();
    const page = await openTill(context);
    await page.fill('#item', 'e2e-double-click');
    await page.dblclick('#register');
    await expect.poll(() => page.textContent('#notice')).toBe('Sale registered.');
    expect(await salesOf('e2e-double-click')).toBe(1);
    expect(await pendingIn(page)).toBe(0);
    await context.close();
  });
});

if (screenshots) mkdirSync(imageDir, { recursive: true });
