export { compose } from './compose.js';
export { createTimeout, type Timeout, type TimeoutOptions } from './create-timeout.js';
export type { Policy, PolicyContext, PolicyExecuteOptions } from './policy.js';
