export { type ExpressHealthOptions, expressHealth } from './express-health.js';
