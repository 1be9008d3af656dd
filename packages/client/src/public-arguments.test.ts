/** The generic wrong-argument sweep over every runtime export of `@ballast/client`. */

import { sweepPublicArguments } from '../../../scripts/test-support/public-arguments-sweep.js';
import * as entry from './index.js';

sweepPublicArguments('@ballast/client', entry);
