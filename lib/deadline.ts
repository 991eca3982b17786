/**
 * Wait for `work` at most `timeoutMs`: resolves with its result, or rejects with `onTimeout()` when the
 * time runs out first. The work itself is not cancelled (a promise cannot be): callers say so where it
 * matters, e.g. a publish that timed out may still be written. The timer never outlives the race.
 *
 * @example
 * await withDeadline(producer.send(record), 5000, () => new BrokerUnavailableError('no acknowledgement within 5000 ms'));
 */
export async function withDeadline<T>(work: Promise<T>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), timeoutMs);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The message of the innermost error of a chain (`cause`, or kafkajs's `originalError`): kafkajs wraps an
 * error several times over ("retries exceeded" around "connection error" around ECONNREFUSED), and the
 * innermost one says what actually went wrong.
 *
 * @example
 * rootMessage(new Error('outer', { cause: new Error('ECONNREFUSED') })); // 'ECONNREFUSED'
 */
export function rootMessage(error: unknown): string {
  let current = error as { message?: string; cause?: unknown; originalError?: unknown } | undefined;
  for (let depth = 0; depth < 10; depth++) {
    const next = (current?.cause ?? current?.originalError) as typeof current;
    if (!next || typeof next !== 'object') break;
    current = next;
  }
  return current?.message ?? String(error);
}
