export {
  createEventCatalog,
  type DecodedEvent,
  type DecodeOptions,
  type EventCatalog,
  type EventCatalogOptions,
} from './event-catalog.js';
export {
  type CreateEventOptions,
  defineEvent,
  type EventDefinition,
  type EventInput,
  type EventOutput,
} from './event-definition.js';
export type { EventEnvelope } from './event-envelope.js';
export {
  createEventProcessor,
  type DeliveryInfo,
  type EventHandlerContext,
  type EventProcessor,
  type EventProcessorOptions,
  type EventSubscription,
  handleEvent,
  isDeadLetterError,
  type ProcessOutcome,
} from './event-processor.js';
export { defineUpcaster, type EventUpcaster } from './event-upcaster.js';
