/**
 * The parent's side of `outbox-child.ts`: starts one side of the outbox benchmark in its own
 * process and relays what it reports (handler starts and ends, CPU and statements used).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, ChildSetup, ParentMessage } from './outbox-child.js';

/** CPU time (µs) and Postgres statements a process has used so far. */
export interface Usage {
  readonly cpuUs: number;
  readonly statements: number;
}

export interface BenchChild {
  usage(): Promise<Usage>;
  /** Closes what the child opened and waits for it to exit. */
  stop(): Promise<void>;
}

const script = fileURLToPath(new URL('./outbox-child.ts', import.meta.url));

/** Starts `setup.role` and resolves once it is running. */
export async function startChild(
  setup: ChildSetup,
  onStart: (orderId: string, at: number) => void,
  onEnd: () => void,
): Promise<BenchChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(setup)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const usages: ((usage: Usage) => void)[] = [];
  let ready: () => void = () => {};
  const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
  // Rejects when the child exits: whoever waits on it then fails instead of hanging.
  const exited = exit.then((code): never => {
    throw new Error(`${setup.role} exited with code ${code}`);
  });
  exited.catch(() => {});
  child.on('message', (message: ChildMessage) => {
    if (message.type === 'handled') {
      for (const [orderId, at] of message.started) onStart(orderId, at);
      for (let i = 0; i < message.ended; i += 1) onEnd();
    } else if (message.type === 'usage') {
      usages.shift()?.({ cpuUs: message.cpuUs, statements: message.statements });
    } else if (message.type === 'ready') {
      ready();
    }
  });
  const send = (message: ParentMessage) => child.send(message);
  await Promise.race([new Promise<void>((resolve) => (ready = resolve)), exited]);
  return {
    usage: () =>
      Promise.race([
        new Promise<Usage>((resolve) => {
          usages.push(resolve);
          send({ type: 'usage' });
        }),
        exited,
      ]),
    stop: async () => {
      send({ type: 'stop' });
      const code = await exit;
      if (code !== 0) throw new Error(`${setup.role} exited with code ${code}`);
    },
  };
}

/** The children's usage, summed. */
export async function usageOf(children: readonly BenchChild[]): Promise<Usage> {
  const usages = await Promise.all(children.map((child) => child.usage()));
  return usages.reduce(
    (sum, usage) => ({
      cpuUs: sum.cpuUs + usage.cpuUs,
      statements: sum.statements + usage.statements,
    }),
    { cpuUs: 0, statements: 0 },
  );
}
