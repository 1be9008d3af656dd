export { redisHealthCheck } from './redis-health-check.js';
