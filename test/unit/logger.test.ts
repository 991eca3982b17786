import { Writable } from 'node:stream';
import { ValidationError } from '../../lib/errors';
import { logLevel } from 'kafkajs';
import { createLogger, kafkaLogCreator } from '../../lib/logger';

/** A logger writing into `lines`, one parsed JSON object per line. */
function capture(level: 'info' | 'debug' = 'info') {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger({ destination, level }), lines };
}

/** What one logged error looks like in the JSON log. */
function logOnce(error: Error): Record<string, unknown>[] {
  const { logger, lines } = capture();
  logger.error({ err: error }, 'failed');
  return lines;
}

describe('the JSON logger', () => {
  it('says an error’s reason once when the message already quotes its cause, and keeps the cause’s stack', () => {
    let cause: Error | undefined;
    try {
      JSON.parse('nope');
    } catch (error) {
      cause = error as Error;
    }
    const error = new ValidationError(`the record is not JSON: ${cause!.message}`, undefined, cause);

    const lines = logOnce(error);

    expect(lines).toHaveLength(1);
    const err = lines[0]!.err as { message: string; stack: string; code: string };
    expect(err.message).toBe(error.message);
    expect(err.message.split(cause!.message)).toHaveLength(2); // the reason appears exactly once
    expect(err.stack).toMatch(/caused by: SyntaxError: Unexpected token/);
    expect(err.code).toBe('VALIDATION_FAILED');
  });
});

describe("kafkajs's lines in the JSON log", () => {
  it('keeps what the caller is told anyway (retried attempts, refused authentications) at debug; the rest as kafkajs said', () => {
    const { logger, lines } = capture('debug');
    const log = kafkaLogCreator(logger)(logLevel.INFO);
    const line = (namespace: string, level: logLevel, message: string, extra: Record<string, unknown> = {}) =>
      log({ namespace, level, label: '', log: { timestamp: '', logger: 'kafkajs', message, ...extra } });
    line(
      'Producer',
      logLevel.ERROR,
      'Failed to send messages: This server is not the leader for that topic-partition',
      {
        retryCount: 1,
        retryTime: 400,
      },
    );
    line('Connection', logLevel.ERROR, 'Response Produce(key: 0, version: 7)', {
      error: 'This server is not the leader for that topic-partition',
    });
    line('BrokerPool', logLevel.ERROR, 'SASL SCRAM SHA512 authentication failed: wrong password', { retryCount: 0 });
    line('Connection', logLevel.ERROR, 'Response SaslAuthenticate(key: 36, version: 1)', { error: 'bad' });
    line('Consumer', logLevel.ERROR, 'Crash: KafkaJSNumberOfRetriesExceeded: x');
    line('Runner', logLevel.ERROR, 'The coordinator is not aware of this member', { groupId: 'g' });
    line('Consumer', logLevel.WARN, 'Could not find a partition assigner');
    log({
      namespace: undefined as unknown as string,
      level: logLevel.WARN,
      label: '',
      log: { timestamp: '', logger: 'kafkajs', message: 'KafkaJS v2.0.0 switched default partitioner.' },
    });
    expect(lines.map((l) => [l.level, l.namespace])).toEqual([
      ['debug', 'Producer'],
      ['debug', 'Connection'],
      ['debug', 'BrokerPool'],
      ['debug', 'Connection'],
      ['debug', 'Consumer'],
      ['error', 'Runner'],
      ['warn', 'Consumer'],
      ['warn', undefined],
    ]);
  });
});
