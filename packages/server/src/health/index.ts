export {
  checkHealth,
  type HealthCheck,
  type HealthCheckResult,
  type HealthOptions,
  type HealthProbe,
  type HealthReport,
} from './health-check.js';
export { health, healthStatus, live, liveReport } from './health-handler.js';
export { storageHealthCheck } from './storage-health-check.js';
