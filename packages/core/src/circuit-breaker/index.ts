export {
  type CircuitBreakEvent,
  type CircuitBreaker,
  type CircuitBreakerEvents,
  type CircuitBreakerOptions,
  type CircuitExecuteOptions,
  type CircuitState,
  type CircuitStateChange,
  createCircuitBreaker,
} from './circuit-breaker.js';
export type { BreakReason } from './trip-condition.js';
