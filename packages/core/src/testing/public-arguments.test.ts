/** The generic wrong-argument sweep over every runtime export of `@ballast/core/testing`. */
import * as entry from './index.js';
import { sweepPublicArguments } from './public-arguments-sweep.js';

sweepPublicArguments('@ballast/core/testing', entry);
