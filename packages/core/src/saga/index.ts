export { type CompensateOptions, compensate } from './compensate.js';
export {
  type Saga,
  type SagaContext,
  type SagaOptions,
  type SagaStep,
  saga,
  type WithStepResult,
} from './saga.js';
export {
  CompensationFailedError,
  type CompensationFailure,
  type SagaFailure,
  sagaFailureKey,
  sagaFailureOf,
} from './saga-failure.js';
