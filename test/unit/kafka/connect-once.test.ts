import { connectOnce } from '../../../lib/kafka/connect-once';

/** A client whose connect fails while `down` is set; it counts what happened to it. */
function clients(state: { down: boolean }) {
  const made: { connects: number; disconnects: number }[] = [];
  const create = () => {
    const counts = { connects: 0, disconnects: 0 };
    made.push(counts);
    return {
      counts,
      async connect() {
        counts.connects += 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (state.down) throw new Error('connect ECONNREFUSED');
      },
      async disconnect() {
        counts.disconnects += 1;
      },
    };
  };
  return { made, create };
}

describe('connectOnce', () => {
  it('connects once for any number of concurrent callers', async () => {
    const { made, create } = clients({ down: false });
    const shared = connectOnce(create);
    const got = await Promise.all([shared.get(), shared.get(), shared.get()]);
    expect(new Set(got).size).toBe(1);
    expect(made).toEqual([{ connects: 1, disconnects: 0 }]);
  });

  it('after a failed connect, disconnects that client and tries a new one on the next call', async () => {
    const state = { down: true };
    const { made, create } = clients(state);
    const shared = connectOnce(create);
    await expect(shared.get()).rejects.toThrow('ECONNREFUSED');
    state.down = false;
    const client = await shared.get();
    expect(client.counts).toBe(made[1]);
    expect(made).toEqual([
      { connects: 1, disconnects: 1 },
      { connects: 1, disconnects: 0 },
    ]);
  });

  it('close disconnects the connected client; the next get connects a new one', async () => {
    const { made, create } = clients({ down: false });
    const shared = connectOnce(create);
    await shared.close(); // nothing connected yet: nothing to do
    expect(made).toHaveLength(0);
    await shared.get();
    await shared.close();
    expect(made[0]).toEqual({ connects: 1, disconnects: 1 });
    await shared.get();
    expect(made).toHaveLength(2);
  });
});
