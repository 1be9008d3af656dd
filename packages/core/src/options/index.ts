export { parseOptions } from './parse-options.js';
