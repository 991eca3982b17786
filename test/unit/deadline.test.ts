import { rootMessage, withDeadline } from '../../lib/deadline';

describe('withDeadline', () => {
  it('resolves with the work when it finishes in time', async () => {
    await expect(withDeadline(Promise.resolve(42), 1000, () => new Error('late'))).resolves.toBe(42);
  });

  it("rejects with the work's own error when it fails in time", async () => {
    await expect(withDeadline(Promise.reject(new Error('refused')), 1000, () => new Error('late'))).rejects.toThrow(
      'refused',
    );
  });

  it('rejects with the timeout error when the time runs out first', async () => {
    const never = new Promise<never>(() => undefined);
    await expect(withDeadline(never, 20, () => new Error('no answer within 20 ms'))).rejects.toThrow(
      'no answer within 20 ms',
    );
  });

  it('leaves no timer behind once the work is done', async () => {
    const timers = jest.spyOn(global, 'clearTimeout');
    await withDeadline(Promise.resolve(), 60_000, () => new Error('late'));
    expect(timers).toHaveBeenCalled();
    timers.mockRestore();
  });
});

describe('rootMessage', () => {
  it('says the innermost error of a cause chain, kafkajs originalError included', () => {
    const inner = new Error('connect ECONNREFUSED 127.0.0.1:9092');
    const middle = Object.assign(new Error('Connection error'), { originalError: inner });
    const outer = new Error('Number of retries exceeded', { cause: middle });
    expect(rootMessage(outer)).toBe('connect ECONNREFUSED 127.0.0.1:9092');
    expect(rootMessage(new Error('alone'))).toBe('alone');
    expect(rootMessage('a string')).toBe('a string');
  });
});
