/** The generic wrong-argument sweep over every runtime export of `@ballast/server/adapter-kit`. */
import * as entry from './index.js';
import { sweepPublicArguments } from '../../../core/src/testing/public-arguments-sweep.js';

sweepPublicArguments('@ballast/server/adapter-kit', entry, {});
