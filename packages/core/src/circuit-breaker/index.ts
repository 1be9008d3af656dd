export { createCircuitBreaker } from './circuit-breaker.js';
export type {
  BreakReason,
  CircuitBreakEvent,
  CircuitBreaker,
  CircuitBreakerEvents,
  CircuitBreakerOptions,
  CircuitExecuteOptions,
  CircuitState,
  CircuitStateChange,
} from './circuit-breaker-config.js';
