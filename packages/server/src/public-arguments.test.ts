/** The generic wrong-argument sweep over every runtime export of `@ballast/server`. */

import { sweepPublicArguments } from '../../../scripts/test-support/public-arguments-sweep.js';
import * as entry from './index.js';

sweepPublicArguments('@ballast/server', entry);
