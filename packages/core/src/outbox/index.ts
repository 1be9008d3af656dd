export { createFunctionPublisher, type PublishFunction } from './function-publisher.js';
export {
  createInProcessPublisher,
  type InProcessDeadLetter,
  type InProcessPublisher,
  type InProcessPublisherEvents,
  type InProcessPublisherOptions,
  type RedriveFilter,
} from './in-process-publisher.js';
export type { InboxOutcome, InboxRef, InboxStore } from './inbox-store.js';
export { MemoryInboxStore, type MemoryInboxStoreOptions } from './memory-inbox-store.js';
export {
  MemoryOutbox,
  type MemoryOutboxOptions,
  type MemoryOutboxRow,
  type MemoryOutboxTransaction,
} from './memory-outbox.js';
export type {
  CommitWatch,
  OutboxClaimRequest,
  OutboxDeadLetter,
  OutboxEntry,
  OutboxParkRequest,
  OutboxRedriveFilter,
  OutboxReleaseRequest,
  OutboxSettleRequest,
  OutboxStore,
  OutboxWriter,
} from './outbox-store.js';
export type { Publisher } from './publisher.js';
export { createRelay, type Relay, type RelayStepResult } from './relay.js';
export {
  type RelayBackoffOptions,
  type RelayBreakerOptions,
  type RelayDeadLetterEvent,
  type RelayDepthEvent,
  type RelayEvents,
  type RelayOptions,
  type RelayPublishedEvent,
  type RelayPublishFailedEvent,
  type RelayRejectedEvent,
  relayDefaults,
} from './relay-options.js';
