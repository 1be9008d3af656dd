export { type Logger, type LogMethod, noopLogger } from './logger.js';
