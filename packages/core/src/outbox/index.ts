export type { InboxOutcome, InboxRef, InboxStore } from './inbox-store.js';
export { MemoryInboxStore, type MemoryInboxStoreOptions } from './memory-inbox-store.js';
export type {
  OutboxClaimRequest,
  OutboxEntry,
  OutboxReleaseRequest,
  OutboxSettleRequest,
  OutboxStore,
  OutboxWriter,
} from './outbox-store.js';
export type { Publisher } from './publisher.js';
