/** The generic wrong-argument sweep over every runtime export of `@ballast/core/testing`. */

import { sweepPublicArguments } from '../../../../scripts/test-support/public-arguments-sweep.js';
import * as entry from './index.js';

sweepPublicArguments('@ballast/core/testing', entry);
