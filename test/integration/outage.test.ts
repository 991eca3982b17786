/**
 * A broker outage as a user lives it: `serverless offline` with POST /quotes and POST /orders under load
 * (concurrency 8), the broker killed for about 10 s and started again. Every request is answered (200/202,
 * or 503/504 while Kafka is away, never a hang or a mismatched quote), the outage is told once per
 * process instead of once per attempt, and the service answers again without a restart.
 */
import { createServiceTopics } from '../../scripts/create-topics';
import { startOffline, type OfflineProcess } from '../helpers/offline';
import { jarsAvailable, startSecondBroker, type SecondBroker } from './request-reply/second-broker';

const withJars = jarsAvailable() ? describe : describe.skip;

interface Outcome {
  path: string;
  status: number | 'hang' | 'mismatch';
  at: number;
}

/** A JSON log line of a function (pino), or undefined for anything else the process printed. */
type LogLine = { level?: string; fn?: string; event?: string; msg?: string; err?: { message?: string } };
function jsonLine(line: string): LogLine | undefined {
  const start = line.indexOf('{"level"');
  if (start === -1) return undefined;
  try {
    return JSON.parse(line.slice(start)) as LogLine;
  } catch {
    return undefined;
  }
}

withJars('a broker outage under load', () => {
  let broker: SecondBroker;
  let offline: OfflineProcess;

  beforeAll(async () => {
    broker = await startSecondBroker();
    await createServiceTopics({ ...process.env, KAFKA_BROKERS: broker.address, KAFKA_TOPIC_PREFIX: '' });
    offline = await startOffline({
      env: {
        KAFKA_BROKERS: broker.address,
        KAFKA_TOPIC_PREFIX: '',
        REPLY_TIMEOUT_MS: '3000',
        PUBLISH_TIMEOUT_MS: '3000',
      },
      readyPattern: /kafka: ready/,
      timeoutMs: 120_000,
    });
  }, 240_000);

  afterAll(async () => {
    await offline?.stop();
    await broker?.destroy();
  });

  it('answers every request, tells the outage once per process, and recovers on its own', async () => {
    const outcomes: Outcome[] = [];
    let n = 0;
    const call = async (path: '/quotes' | '/orders'): Promise<void> => {
      n += 1;
      const productId = `p-${n}`;
      const body =
        path === '/quotes'
          ? { productId, quantity: 1 + (n % 50) }
          : { customerId: `c-${n}`, items: [{ sku: 'kettle', quantity: 1, unitPriceCents: 1999 }] };
      try {
        const response = await fetch(`${offline.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(15_000), // a hang fails the test
        });
        const json = (await response.json()) as { productId?: string };
        const mismatch = path === '/quotes' && response.status === 200 && json.productId !== productId;
        outcomes.push({ path, status: mismatch ? 'mismatch' : response.status, at: Date.now() });
      } catch {
        outcomes.push({ path, status: 'hang', at: Date.now() });
      }
    };
    let running = true;
    const drivers = Array.from({ length: 8 }, (_, i) =>
      (async () => {
        while (running) await call(i % 2 ? '/orders' : '/quotes');
      })(),
    );

    await new Promise((resolve) => setTimeout(resolve, 3000));
    const logFrom = offline.output().length;
    await broker.stop('SIGKILL');
    const killedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    await broker.start();
    const startedAt = Date.now();
    // keep the load on until POST /quotes answers 200 again, then a little longer
    const deadline = Date.now() + 120_000;
    while (!outcomes.some((o) => o.path === '/quotes' && o.status === 200 && o.at > startedAt)) {
      if (Date.now() > deadline) throw new Error(`no 200 after the restart:\n${offline.output().slice(-5000)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await new Promise((resolve) => setTimeout(resolve, 3000));
    running = false;
    await Promise.all(drivers);
    const recoveredAt = outcomes.find((o) => o.path === '/quotes' && o.status === 200 && o.at > startedAt)!.at;

    // every request answered: 200/202, or 503/504 while Kafka was away; never a hang, never another caller's quote
    const statuses = new Map<string, number>();
    for (const o of outcomes) statuses.set(`${o.path} ${o.status}`, (statuses.get(`${o.path} ${o.status}`) ?? 0) + 1);
    const summary = [...statuses].map(([k, v]) => `${k}: ${v}`).join(', ');
    expect(outcomes.filter((o) => !['200', '202', '503', '504'].includes(String(o.status)))).toEqual([]);
    expect(outcomes.filter((o) => o.status === 503 || o.status === 504).length).toBeGreaterThan(0);

    // what the terminal showed from the kill until the service answered again, and a little after
    await new Promise((resolve) => setTimeout(resolve, 2000)); // worker-thread output arrives asynchronously
    const lines = offline.output().slice(logFrom).split('\n');
    const loud = lines.map(jsonLine).filter((l) => l && (l.level === 'warn' || l.level === 'error'));
    const perFunction = new Map<string, number>();
    for (const l of loud) perFunction.set(l!.fn ?? '?', (perFunction.get(l!.fn ?? '?') ?? 0) + 1);
    const notTold = loud.filter((l) => !String(l!.event ?? '').startsWith('kafka.'));
    const pluginLoud = lines.filter((l) => /Kafka (still )?unreachable/.test(l) && !l.includes('{"level"'));
    console.info(
      `outage of ${startedAt - killedAt} ms: answers: ${summary}; 200 again ${recoveredAt - startedAt} ms after the restart; ` +
        `warn/error JSON lines per function: ${JSON.stringify(Object.fromEntries(perFunction))}; ` +
        `other warn/error lines: ${notTold.length}; plugin outage lines: ${pluginLoud.length}; total lines ${lines.length}`,
    );
    const told = lines.filter((l) => /"event":"kafka\.|Kafka (still )?unreachable|Kafka reachable again/.test(l));
    console.info(
      `what the outage looked like (first lines):\n${told.slice(0, 8).join('\n')}` +
        (notTold.length
          ? `\nwarn/error lines not told by the outage (first 5):\n${notTold
              .slice(0, 5)
              .map((l) => JSON.stringify(l))
              .join('\n')}`
          : ''),
    );
    // per function: its instances' "unreachable" lines and a summary or two each, nothing per attempt
    for (const [fn, count] of perFunction) expect({ fn, count: count <= 30 }).toEqual({ fn, count: true });
    expect(notTold.map((l) => `${l!.fn}: ${l!.msg} (${l!.err?.message ?? ''}) ${JSON.stringify(l)}`)).toEqual([]);
    expect(pluginLoud.length).toBeLessThanOrEqual(3);
    expect(lines.some((l) => /Kafka reachable again after/.test(l))).toBe(true);
    expect(lines.filter((l) => /Unhandled exception in handler/.test(l))).toEqual([]);
  }, 300_000);
});
