/**
 * Records created offline (issue 15 item 6): the page gives a new record a temporary id
 * (`createTemporaryId()`), uses it at once in later writes (`/customers/tmp-…/notes`,
 * `{ customerId: 'tmp-…' }`), and queues the creation with `temporaryId`. Until the creation is
 * delivered, writes that mention its temporary id wait; once the server answers with the real
 * id, every queued write is rewritten to it (path and body), and so is any write sent later
 * that still mentions it. The mapping is stored beside the writes, so it survives a reload.
 */
import type { BallastError, ErrorCodeInfo } from '@ballast/core';
import { clientError } from '../errors/client-error.js';
import { createIdempotencyKey } from '../fetch/idempotency-key.js';
import { func, object, optional, parseOptions } from '../options/option-checks.js';
import type { QueueStorage } from './queue-storage.js';
import { loadQueuedWrites, type QueuedWrite } from './queued-write.js';

const prefix = 'tmp-';
const pattern = /tmp-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/g;

/** A server id, as the creation's answer gave it. */
export type ServerId = string | number;

/**
 * A temporary id for a record created offline: `tmp-` and a random UUID, so it can never be
 * mistaken for a server's id and is found wherever a later write mentions it.
 */
export function createTemporaryId(): string {
  return `${prefix}${createIdempotencyKey()}`;
}

/** Whether `value` is an id made by {@link createTemporaryId}. */
export function isTemporaryId(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  pattern.lastIndex = 0;
  const match = pattern.exec(value);
  return match !== null && match[0] === value;
}

/** The temporary ids a path and body mention. */
export function temporaryIdsIn(path: string, body: unknown): Set<string> {
  const text = `${path} ${body === undefined ? '' : JSON.stringify(body)}`;
  return new Set(text.match(pattern) ?? []);
}

/**
 * `value` with `temporaryId` replaced by `id`: a string equal to it becomes `id` itself (a
 * number stays a number), a string containing it has it replaced. Other values are kept.
 */
export function replaceTemporaryId(value: unknown, temporaryId: string, id: ServerId): unknown {
  if (typeof value === 'string') {
    if (value === temporaryId) return id;
    return value.includes(temporaryId) ? value.split(temporaryId).join(String(id)) : value;
  }
  if (Array.isArray(value)) return value.map((item) => replaceTemporaryId(item, temporaryId, id));
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      copy[replaceTemporaryId(key, temporaryId, id) as string] = replaceTemporaryId(
        item,
        temporaryId,
        id,
      );
    }
    return copy;
  }
  return value;
}

interface StoredMapping {
  kind: 'ballast-temporary-id';
  temporaryId: string;
  serverId: ServerId;
  /** Epoch ms; mappings are kept for {@link mappingLifetimeMs}. */
  at: number;
}

/** `REFERENCE_CONFLICT`'s defaults, as core's catalogue has them (see clientError). */
export const referenceConflict: Partial<ErrorCodeInfo> = { status: 409, action: 'correct-input' };

/**
 * How long a resolved temporary id is remembered (a page open for days may still hold one):
 * 7 days. A literal, because bundlers keep an unused `7 * 24 * …` in every app that imports
 * the queue without temporary ids.
 */
const mappingLifetimeMs = 604_800_000;
const storageKey = (temporaryId: string) => `temporary-id:${temporaryId}`;

function isMapping(record: unknown): record is StoredMapping {
  const mapping = record as StoredMapping | undefined;
  return (
    typeof mapping === 'object' &&
    mapping !== null &&
    mapping.kind === 'ballast-temporary-id' &&
    isTemporaryId(mapping.temporaryId) &&
    (typeof mapping.serverId === 'string' || typeof mapping.serverId === 'number')
  );
}

/** What a write queue does with temporary ids. */
export interface TemporaryIdResolver {
  /**
   * Whether `value` is a temporary id from {@link createTemporaryId} (a write's `temporaryId`
   * is checked with it, so a page that does not use temporary ids does not carry the check).
   */
  isTemporaryId(value: string): boolean;
  /**
   * Saves the mappings the storage refused so far, then reads the stored ones (another tab may
   * have added some), dropping expired ones.
   */
  load(now: number): Promise<void>;
  /** Rewrites the temporary ids `write` mentions that are known by now; true when it changed. */
  resolveReferences(write: QueuedWrite): boolean;
  /**
   * Whether `write` mentions a record whose creation is still among `queued` (it waits),
   * whatever the order they were queued in. Two creations that mention each other do not wait
   * for each other: the one queued first goes.
   */
  waitsForCreation(write: QueuedWrite, queued: readonly QueuedWrite[]): boolean;
  /**
   * When a creation `write` waits for failed (the server refused it), `write` can never get a
   * server id: it is stored as failed with `REFERENCE_CONFLICT` instead of waiting for ever, and
   * the error is returned. Retrying it after the creation is retried and delivered sends it
   * with the server's id.
   */
  failIfCreationFailed?(
    write: QueuedWrite,
    queued: readonly QueuedWrite[],
  ): Promise<BallastError | undefined>;
  /**
   * After `write` was delivered with answer `data`: when it created a record with a temporary
   * id, remembers the server's id and rewrites every queued write that mentions it. Never
   * rejects: the write is delivered whatever happens here. A storage that refuses the mapping
   * leaves it known to this tab and saved at the next {@link TemporaryIdResolver.load}.
   */
  afterDelivery(
    write: QueuedWrite,
    data: unknown,
    now: number,
  ): Promise<{ temporaryId: string; id: ServerId } | undefined>;
}

/** Creation order, whatever the priority (a strict order: it picks who goes in a cycle). */
function createdBefore(a: QueuedWrite, b: QueuedWrite): boolean {
  return (
    (a.createdAt.getTime() - b.createdAt.getTime() ||
      a.sequence - b.sequence ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) < 0
  );
}

/**
 * The answer's `id`, when it is one: an empty string would rewrite `/customers/tmp-…` to
 * `/customers/`, and a number JSON cannot carry (`1e400` reads as Infinity) would go out as
 * `null`, so such an answer counts as one without an id.
 */
function defaultServerId(data: unknown): ServerId | undefined {
  const id = (data as { id?: unknown } | undefined)?.id;
  return (typeof id === 'string' && id !== '') || Number.isFinite(id)
    ? (id as ServerId)
    : undefined;
}

/** Options of {@link temporaryIdSupport}. */
export interface TemporaryIdSupportOptions {
  /**
   * Reads the server's id from a creation's answer; one that throws counts as no id. Default:
   * the answer's `id` (a non-empty string or a finite number).
   */
  readServerId?: (data: unknown) => ServerId | undefined;
}

/** Temporary-id handling for a write queue, made by {@link temporaryIdSupport}. */
export interface TemporaryIdSupport {
  /** Creates the handling of one queue over its storage. */
  create(storage: QueueStorage): TemporaryIdResolver;
}

/**
 * Turns on records created offline for a write queue (`createWriteQueue({ temporaryIds:
 * temporaryIdSupport() })`); a separate export so an app that does not use them does not ship
 * the code.
 *
 * @throws BallastError `INVALID_OPTIONS` when `readServerId` is not a function.
 */
export function temporaryIdSupport(options: TemporaryIdSupportOptions = {}): TemporaryIdSupport {
  const { readServerId = defaultServerId } = parseOptions(
    object({ readServerId: optional(func<(data: unknown) => ServerId | undefined>()) }),
    options,
    'temporaryIdSupport()',
  );
  return { create: (storage) => createTemporaryIdResolver(storage, readServerId) };
}

/**
 * The temporary-id handling of one queue over its storage, where the mappings are kept as
 * records the queue does not read as writes.
 */
function createTemporaryIdResolver(
  storage: QueueStorage,
  readServerId: (data: unknown) => ServerId | undefined,
): TemporaryIdResolver {
  const known = new Map<string, ServerId>();
  /** Mappings of delivered creations the storage has not taken yet (it refused, or failed). */
  const unsaved = new Map<string, StoredMapping>();
  async function saveMappings(): Promise<void> {
    for (const [temporaryId, mapping] of unsaved) {
      await storage.put(storageKey(temporaryId), mapping);
      unsaved.delete(temporaryId);
    }
  }
  function resolveReferences(write: QueuedWrite): boolean {
    let rewritten = false;
    for (const temporaryId of temporaryIdsIn(write.path, write.body)) {
      const id = known.get(temporaryId);
      if (id === undefined || temporaryId === write.temporaryId) continue;
      write.path = write.path.split(temporaryId).join(encodeURIComponent(String(id)));
      write.body = replaceTemporaryId(write.body, temporaryId, id);
      rewritten = true;
    }
    return rewritten;
  }
  /** Whether creation `other` mentions `write`'s own temporary id (it would wait for `write`). */
  const waitsForMe = (other: QueuedWrite, write: QueuedWrite) =>
    write.temporaryId !== undefined &&
    temporaryIdsIn(other.path, other.body).has(write.temporaryId);
  function awaitedCreations(write: QueuedWrite, queued: readonly QueuedWrite[]): QueuedWrite[] {
    const mentioned = temporaryIdsIn(write.path, write.body);
    if (mentioned.size === 0) return [];
    return queued.filter(
      (other) =>
        other.id !== write.id &&
        other.temporaryId !== undefined &&
        other.temporaryId !== write.temporaryId &&
        mentioned.has(other.temporaryId) &&
        !(waitsForMe(other, write) && createdBefore(write, other)),
    );
  }
  return {
    isTemporaryId,
    resolveReferences,
    waitsForCreation: (write, queued) => awaitedCreations(write, queued).length > 0,
    async failIfCreationFailed(write, queued) {
      const creation = awaitedCreations(write, queued).find((other) => other.state === 'failed');
      if (creation === undefined) return undefined;
      const error = clientError(
        'REFERENCE_CONFLICT',
        {
          message: 'It refers to a record that could not be created; fix or remove that first.',
          details: { creationId: creation.id },
        },
        referenceConflict,
      );
      write.state = 'failed';
      write.error = { code: error.code, message: error.message, status: error.status };
      delete write.nextAttemptAt;
      await storage.put(write.id, write);
      return error;
    },
    async afterDelivery(write, data, now) {
      if (write.temporaryId === undefined) return undefined;
      let id: ServerId | undefined;
      try {
        id = readServerId(data);
      } catch {
        // A reader that throws found no id, as one that returns nothing.
      }
      // Without an id in the answer, writes that mention the record stay as they are.
      if (id === undefined) return undefined;
      const { temporaryId } = write;
      known.set(temporaryId, id);
      unsaved.set(temporaryId, {
        kind: 'ballast-temporary-id',
        temporaryId,
        serverId: id,
        at: now,
      });
      try {
        await saveMappings();
        for (const queued of await loadQueuedWrites(storage)) {
          if (resolveReferences(queued)) await storage.put(queued.id, queued);
        }
      } catch {
        // The creation is delivered all the same. This tab knows the id, and rewrites each
        // write that mentions it before sending it; the mapping is saved at the next flush.
      }
      return { temporaryId, id };
    },
    async load(now) {
      // Refused again (a full quota): this tab still knows the ids, and must not stop flushing.
      await saveMappings().catch(() => {});
      for (const record of await storage.list()) {
        if (!isMapping(record)) continue;
        if (record.at + mappingLifetimeMs < now)
          await storage.delete(storageKey(record.temporaryId));
        else known.set(record.temporaryId, record.serverId);
      }
    },
  };
}
