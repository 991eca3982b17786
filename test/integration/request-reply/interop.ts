import { resolve } from 'node:path';
import { declaredTopics } from '../../../lib/kafka/topics';
import { createServiceTopics } from '../../../scripts/create-topics';
import { BROKERS, createTopic, deleteTopics, uniqueName } from '../../helpers/kafka';
import type { OfflineProcess } from '../../helpers/offline';
import { startProcess, type TestProcess } from '../../helpers/process';

export const ROOT = resolve(__dirname, '..', '..', '..');

/**
 * Start another framework's service (test/interop/) and wait for its "ready" line; it is stopped by pid
 * if it does not get there. The caller stops it in its own clean-up.
 */
export async function startService(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string>,
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<TestProcess> {
  const service = startProcess(name, command, args, {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, KAFKA_BROKERS: BROKERS.join(','), ...env },
  });
  try {
    await service.waitForOutput(/^ready$/m, options.timeoutMs ?? 60_000);
  } catch (error) {
    await service.kill();
    throw error;
  }
  return service;
}

/** Wait for the service's one result line (`{"result":{...}}`), then stop it; returns the result. */
export async function resultOf(service: TestProcess, timeoutMs: number): Promise<Record<string, unknown>> {
  try {
    const [line] = await service.waitForOutput(/^\{"result".*$/m, timeoutMs);
    return (JSON.parse(line) as { result: Record<string, unknown> }).result;
  } finally {
    await service.stop(10_000, 'SIGTERM');
  }
}

/** POST /quotes on a running serverless offline. */
export const postQuote = (offline: OfflineProcess, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${offline.url}/quotes`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });

/** Run `count` tasks with at most `concurrency` in flight. */
export async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

/**
 * Every declared topic under a unique KAFKA_TOPIC_PREFIX, created the way `npm run topics` creates them
 * (so QUOTE_REPLY_TOPIC, when given, is created like quote-replies), plus `extra` topics (name → partitions)
 * that belong to the other service.
 */
export async function interopTopics(
  label: string,
  settings: { QUOTE_REPLY_TOPIC?: string },
  extra: Record<string, number>,
) {
  const prefix = `${uniqueName(label)}-`;
  const env = { KAFKA_BROKERS: BROKERS.join(','), KAFKA_TOPIC_PREFIX: prefix, LOG_LEVEL: 'warn', ...settings };
  await createServiceTopics(env);
  for (const [name, partitions] of Object.entries(extra)) await createTopic(`${prefix}${name}`, partitions);
  const ours = declaredTopics({
    topicPrefix: prefix,
    quotes: { replyTopic: settings.QUOTE_REPLY_TOPIC ?? 'quote-replies' },
  });
  return {
    prefix,
    cleanup: () => deleteTopics([...ours.map((t) => t.name), ...Object.keys(extra).map((n) => `${prefix}${n}`)]),
  };
}

export interface LoadCounts {
  requests: number;
  /** answered 200 with the body of its own request */
  replies: number;
  /** answered 200 with another request's body (must never happen) */
  mismatches: number;
  /** 504, or serverless offline's own Lambda timeout */
  timeouts: number;
  /** any other answer */
  errors: number;
  /** answers without the x-kafka-correlation-id header */
  withoutKafkaId: number;
  elapsedMs: number;
  samples: unknown[];
}

/**
 * `count` POST /quotes, `concurrency` at a time, request i asking for product `${label}-${i}` and i + 1
 * units; `matches` says whether a 200 body answers that request.
 */
export async function quoteLoad(
  offline: OfflineProcess,
  options: {
    count: number;
    concurrency: number;
    label: string;
    matches: (body: Record<string, unknown>, request: { productId: string; quantity: number }) => boolean;
  },
): Promise<LoadCounts> {
  const counts: LoadCounts = {
    requests: options.count,
    replies: 0,
    mismatches: 0,
    timeouts: 0,
    errors: 0,
    withoutKafkaId: 0,
    elapsedMs: 0,
    samples: [],
  };
  const started = Date.now();
  await pool(options.count, options.concurrency, async (i) => {
    const request = { productId: `${options.label}-${i}`, quantity: i + 1 };
    const response = await postQuote(offline, request);
    const body = (await response.json()) as Record<string, unknown>;
    if (!response.headers.get('x-kafka-correlation-id')) counts.withoutKafkaId += 1;
    if (response.status === 200 && body.errorType === undefined) {
      if (options.matches(body, request)) counts.replies += 1;
      else counts.mismatches += 1;
    } else if (response.status === 504 || body.errorType === 'LambdaTimeoutError') counts.timeouts += 1;
    else counts.errors += 1;
    if ((response.status !== 200 || !options.matches(body, request)) && counts.samples.length < 3) {
      counts.samples.push({ request, status: response.status, body });
    }
  });
  counts.elapsedMs = Date.now() - started;
  return counts;
}
