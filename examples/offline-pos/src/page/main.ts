/**
 * The till page's script. Sales go through the write queue: sent at once when the network
 * answers, saved on the device (IndexedDB) when it does not, and delivered once, with the same
 * Idempotency-Key, when it returns. Product edits carry the version they were made against; a
 * stale one shows as a conflict with "Keep mine" / "Keep theirs".
 */
import {
  createClient,
  createConnectivity,
  createTemporaryId,
  createUploadQueue,
  createWriteQueue,
  keepMine,
  keepTheirs,
  type QueuedWrite,
  safeAction,
  temporaryIdSupport,
  uploadFile,
} from '@ballast/client';

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const connectivity = createConnectivity({ healthUrl: '/health', pingIntervalMs: 2_000 });
const client = createClient({ connectivity, timeoutMs: 5_000, headers: { 'x-till-id': 'till-1' } });
const queue = createWriteQueue({
  client,
  connectivity,
  name: 'offline-pos',
  flushIntervalMs: 5_000,
  retryDelaysMs: [500, 1_000, 2_000, 5_000],
  // Customers registered offline get a temporary id that later writes can already use.
  temporaryIds: temporaryIdSupport(),
});

// Receipts: stored on the device with their bytes, uploaded (presigned PUT) when the network
// allows, after a reload too, and confirmed once.
const uploads = createUploadQueue({
  client,
  connectivity,
  requestUrl: '/uploads',
  confirmUrl: '/uploads/confirm',
  name: 'offline-pos-uploads',
  retryDelaysMs: [500, 1_000, 2_000, 5_000],
  flushIntervalMs: 5_000,
  retries: 2,
});

async function showUploads() {
  const list = byId<HTMLUListElement>('uploads');
  const queued = await uploads.list();
  list.replaceChildren(
    ...queued.map((upload) => {
      const item = document.createElement('li');
      item.dataset.state = upload.state;
      item.textContent = `${upload.name ?? 'file'} (${upload.size} bytes): ${upload.state}${
        upload.error === undefined ? '' : ` (${upload.error.message})`
      }`;
      return item;
    }),
  );
}

function showStatus() {
  const status = byId('status');
  const label = { online: 'Online', offline: 'Offline', degraded: 'Unstable' }[connectivity.status];
  status.dataset.status = connectivity.status;
  const files = uploads.pendingCount === 0 ? '' : ` · Files: ${uploads.pendingCount}`;
  status.textContent = `${label} · Pending: ${queue.pendingCount}${files}`;
  byId('banner').classList.toggle('shown', connectivity.status !== 'online');
}

function describe(write: QueuedWrite): string {
  const body = write.body as Record<string, unknown>;
  if (write.path === '/sales') return `Sale: ${body.quantity} × ${body.item}`;
  if (write.path.startsWith('/products/')) {
    return `${write.path.replace('/products/', 'Price of ')} → ${body.priceCents}`;
  }
  return `${write.method} ${write.path}`;
}

async function showPending() {
  const list = byId<HTMLUListElement>('pending');
  const writes = await queue.list();
  list.replaceChildren(
    ...writes.map((write) => {
      const item = document.createElement('li');
      item.dataset.state = write.state;
      item.dataset.id = write.id;
      const text = document.createElement('span');
      text.textContent = describe(write);
      const state = document.createElement('span');
      state.className = 'state';
      state.textContent = write.state;
      item.append(state, text);
      const button = (label: string, action: () => Promise<unknown>) => {
        const element = document.createElement('button');
        element.textContent = label;
        element.addEventListener('click', () => void action().then(showPending));
        item.append(element);
      };
      if (write.state === 'conflict') {
        button('Keep mine', () => queue.resolveConflict(write.id, keepMine()));
        button('Keep theirs', () => queue.resolveConflict(write.id, keepTheirs()));
      } else {
        button('Retry', () => queue.retry(write.id));
      }
      button('Remove', () => queue.remove(write.id));
      if (write.error !== undefined) {
        const error = document.createElement('span');
        error.className = 'error';
        error.textContent = `Could not send: ${write.error.message}`;
        item.append(error);
      }
      return item;
    }),
  );
}

function notice(text: string) {
  byId('notice').textContent = text;
}

const register = safeAction(
  async () => {
    const form = byId<HTMLFormElement>('sale');
    const data = new FormData(form);
    const sale = {
      item: String(data.get('item')),
      quantity: Number(data.get('quantity')),
      unitPriceCents: Number(byId<HTMLInputElement>('price').value),
    };
    try {
      const result = await queue.send({ path: '/sales', body: sale, priority: 'high' });
      notice(
        result.queued
          ? 'Sale saved on this device. It will be sent when the connection returns.'
          : 'Sale registered.',
      );
    } catch (error) {
      notice(`Could not register the sale: ${(error as Error).message}`);
    }
  },
  { onBusy: (busy) => (byId<HTMLButtonElement>('register').disabled = busy) },
);

const loadedVersions = new Map<string, { version: number; record: Record<string, unknown> }>();
async function loadProduct(id: string) {
  const { version, ...record } = await client.get<Record<string, unknown> & { version: number }>(
    `/products/${id}`,
  );
  loadedVersions.set(id, { version, record });
}

const editPrice = safeAction(async () => {
  const id = byId<HTMLSelectElement>('product-id').value;
  if (!loadedVersions.has(id)) await loadProduct(id);
  const loaded = loadedVersions.get(id);
  if (loaded === undefined) return;
  const priceCents = Number(byId<HTMLInputElement>('product-price').value);
  const result = await queue.send({
    method: 'PATCH',
    path: `/products/${id}`,
    version: loaded.version,
    base: loaded.record,
    body: { priceCents },
    priority: 'medium',
  });
  notice(result.queued ? `Price change ${result.state}.` : 'Price saved.');
});

byId('sale').addEventListener('submit', (event) => {
  event.preventDefault();
  void register();
});
byId('product').addEventListener('submit', (event) => {
  event.preventDefault();
  void editPrice().catch((error: Error) => notice(error.message));
});

byId('receipt').addEventListener('submit', (event) => {
  event.preventDefault();
  const file = byId<HTMLInputElement>('file').files?.[0];
  if (file === undefined) return;
  void uploads
    .add(file)
    .then(() => notice('Receipt saved on this device; it is uploaded when the network allows.'))
    .catch((error: Error) => notice(`Could not keep the receipt: ${error.message}`));
});
uploads.on('progress', ({ loaded, total }) => {
  byId<HTMLProgressElement>('upload-progress').value = total === 0 ? 1 : loaded / total;
});
uploads.on('uploaded', ({ upload }) => notice(`Receipt ${upload.name ?? ''} uploaded.`));
uploads.on('change', () => {
  showStatus();
  void showUploads();
});
void uploads.ready.then(showUploads);

connectivity.on('change', showStatus);
queue.on('change', () => {
  showStatus();
  void showPending();
});
void queue.ready.then(() => {
  showStatus();
  return showPending();
});
void Promise.all([loadProduct('coffee'), loadProduct('croissant')]).catch(() => undefined);

// For the end-to-end tests, the benchmark and the console.
Object.assign(globalThis, {
  pos: { queue, uploads, client, connectivity, register, loadProduct, loadedVersions },
  ballast: { createClient, createWriteQueue, createTemporaryId, uploadFile },
});
