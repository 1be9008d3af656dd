/**
 * The generic wrong-argument sweep over every runtime export of each adapters subpath. None of
 * them needs a live service: a wrong argument is refused before any connection is made.
 */
import * as bullmq from '@ballast/adapters/bullmq';
import * as express from '@ballast/adapters/express';
import * as fastify from '@ballast/adapters/fastify';
import * as fs from '@ballast/adapters/fs';
import * as postgres from '@ballast/adapters/postgres';
import * as redis from '@ballast/adapters/redis';
import * as s3 from '@ballast/adapters/s3';
import { sweepPublicArguments } from '../../../scripts/test-support/public-arguments-sweep.js';

sweepPublicArguments('@ballast/adapters/express', express);
sweepPublicArguments('@ballast/adapters/fastify', fastify);
sweepPublicArguments('@ballast/adapters/postgres', postgres);
sweepPublicArguments('@ballast/adapters/s3', s3);
sweepPublicArguments('@ballast/adapters/redis', redis);
sweepPublicArguments('@ballast/adapters/fs', fs);
sweepPublicArguments('@ballast/adapters/bullmq', bullmq);
