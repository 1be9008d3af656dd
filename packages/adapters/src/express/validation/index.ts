export { expressValidate } from './express-validate.js';
