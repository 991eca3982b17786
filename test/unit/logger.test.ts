import { Writable } from 'node:stream';
import { ValidationError } from '../../lib/errors';
import { createLogger } from '../../lib/logger';

/** What one logged error looks like in the JSON log. */
function logOnce(error: Error): Record<string, unknown>[] {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  createLogger({ destination }).error({ err: error }, 'failed');
  return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
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
