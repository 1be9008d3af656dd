/** The generic wrong-argument sweep over every runtime export of `@ballast/core`. */
import * as entry from './index.js';
import { sweepPublicArguments } from './testing/public-arguments-sweep.js';

sweepPublicArguments('@ballast/core', entry);
