import { ballastBuild } from '../../tsup.preset';

export default ballastBuild({
  entry: { index: 'src/index.ts' },
  inlineInCjs: ['p-retry', 'is-network-error'],
});
