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
