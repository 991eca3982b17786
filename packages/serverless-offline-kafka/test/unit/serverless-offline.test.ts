import {
  applyTimeoutRecovery,
  isLambdaTimeout,
  quietHandlerErrors,
  runAsKafkaInvocation,
} from '../../src/serverless-offline';

describe('isLambdaTimeout', () => {
  it("recognises serverless-offline's timeout and nothing else", () => {
    const timeout = Object.assign(new Error('[504] - Lambda timeout.'), { name: 'LambdaTimeoutError' });
    expect([timeout, new Error('boom'), 'Lambda timeout'].map(isLambdaTimeout)).toEqual([true, false, false]);
  });
});

describe('quietHandlerErrors', () => {
  it("leaves serverless-offline's error dump out during the event source's invocations only", async () => {
    const written: unknown[][] = [];
    const log = { error: (...args: unknown[]) => void written.push(args) };
    quietHandlerErrors(log);
    quietHandlerErrors(log); // once per process, however often it is applied
    log.error('http handler failed');
    await runAsKafkaInvocation(async () => log.error('kafka handler failed'));
    expect(written).toEqual([['http handler failed']]);
  });
});

describe('applyTimeoutRecovery', () => {
  /** serverless-offline's LambdaFunction, as far as the patch reads it */
  class FakeLambdaFunction {
    constructor(readonly outcome: 'ok' | 'timeout' | 'error') {}
    get status(): string {
      return 'IDLE';
    }
    async runHandler(): Promise<unknown> {
      if (this.outcome === 'timeout')
        throw Object.assign(new Error('[504] - Lambda timeout.'), { name: 'LambdaTimeoutError' });
      if (this.outcome === 'error') throw new Error('boom');
      return 'done';
    }
  }

  it('reports an instance whose invocation timed out as busy from then on, so the pool never hands it out again', async () => {
    expect(applyTimeoutRecovery(FakeLambdaFunction)).toBe(true);
    expect(applyTimeoutRecovery(FakeLambdaFunction)).toBe(true); // already in place
    const [ok, failed, timedOut] = [
      new FakeLambdaFunction('ok'),
      new FakeLambdaFunction('error'),
      new FakeLambdaFunction('timeout'),
    ];
    await expect(ok.runHandler()).resolves.toBe('done');
    await expect(failed.runHandler()).rejects.toThrow('boom');
    await expect(timedOut.runHandler()).rejects.toThrow('Lambda timeout');
    expect([ok.status, failed.status, timedOut.status]).toEqual(['IDLE', 'IDLE', 'BUSY']);
  });

  it('says so when the class is not the one it was written for', () => {
    class Other {
      async runHandler(): Promise<void> {}
    }
    expect(applyTimeoutRecovery(Other as never)).toBe(false);
  });
});
