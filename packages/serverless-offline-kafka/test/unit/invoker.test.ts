import { LambdaInvoker } from '../../src/invoker';
import type { OfflineLambda } from '../../src/serverless-offline';

/** A timeout as serverless-offline's runner raises it. */
const lambdaTimeout = () => Object.assign(new Error('[504] - Lambda timeout.'), { name: 'LambdaTimeoutError' });

/**
 * serverless-offline's Lambda pool, faked: each pool is a generation with a number; a handler is
 * `(event, generation) => result`, and every pool records its events and whether it was cleaned up.
 */
function pools(handler: (event: unknown, generation: number) => Promise<unknown>) {
  const created: { generation: number; events: unknown[]; cleanedUp: boolean }[] = [];
  const create = (): OfflineLambda => {
    const pool = { generation: created.length + 1, events: [] as unknown[], cleanedUp: false };
    created.push(pool);
    return {
      create: () => undefined,
      get: () => {
        let event: unknown;
        return {
          setEvent: (e) => (event = e),
          runHandler: () => {
            pool.events.push(event);
            return handler(event, pool.generation);
          },
        };
      },
      cleanup: async () => {
        pool.cleanedUp = true;
      },
    };
  };
  return { created, create };
}

describe('LambdaInvoker', () => {
  it("runs the function's handler with the event and resolves with its result", async () => {
    const { created, create } = pools(async (event) => ({ echoed: event }));
    const invoker = new LambdaInvoker(create);
    await expect(invoker.invoke('worker', { n: 1 })).resolves.toEqual({ echoed: { n: 1 } });
    expect(created.map((p) => p.events)).toEqual([[{ n: 1 }]]);
  });

  it('after a timeout runs every later invocation in a fresh pool, and cleans the old one once it is idle', async () => {
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const { created, create } = pools(async (event, generation) => {
      if (event === 'times out') throw lambdaTimeout();
      if (event === 'slow') await slow;
      return generation;
    });
    const invoker = new LambdaInvoker(create);
    const inFlight = invoker.invoke('worker', 'slow');
    await expect(invoker.invoke('worker', 'times out')).rejects.toThrow('Lambda timeout');
    expect(created.length).toBe(2);
    expect(created[0]!.cleanedUp).toBe(false); // 'slow' still runs in it
    await expect(invoker.invoke('worker', 'next')).resolves.toBe(2);
    release();
    await expect(inFlight).resolves.toBe(1);
    expect(created.map((p) => p.cleanedUp)).toEqual([true, false]);
  });

  it('renews on request (rebuilt code) and a handler error that is no timeout keeps the pool', async () => {
    const { created, create } = pools(async (event, generation) => {
      if (event === 'fails') throw new Error('boom');
      return generation;
    });
    const invoker = new LambdaInvoker(create);
    await expect(invoker.invoke('worker', 'fails')).rejects.toThrow('boom');
    await expect(invoker.invoke('worker', 'a')).resolves.toBe(1);
    invoker.renew();
    await expect(invoker.invoke('worker', 'b')).resolves.toBe(2);
    await invoker.close();
    expect(created.map((p) => p.cleanedUp)).toEqual([true, true]);
  });
});
