/**
 * `@ballast/core/testing`: fault injection for your own tests. Wrap a storage, store or client
 * in `injectFaults()` and fail its Nth call (`failOnCall`) or a seeded share of calls
 * (`failRandomly`).
 */
export {
  type FailRandomlyOptions,
  type FaultController,
  type FaultDecision,
  type FaultPlan,
  failOnCall,
  failRandomly,
  type InjectedCall,
  type InjectedFault,
  type InjectFaultsOptions,
  injectFaults,
  type WithFaults,
} from './inject-faults.js';
