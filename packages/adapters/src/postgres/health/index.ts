export { postgresHealthCheck } from './postgres-health-check.js';
