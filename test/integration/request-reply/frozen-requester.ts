/**
 * A requester in a process of its own, so a test can freeze it with SIGSTOP the way Lambda freezes a
 * container between invocations. Reads one JSON request per stdin line, writes one JSON line per answer.
 * argv: <reply topic> <request topic>
 */
import { createInterface } from 'node:readline';
import { startRequester } from './harness';

const [replyTopic, requestTopic] = process.argv.slice(2) as [string, string];
const { requester, stop } = startRequester(replyTopic, { sessionTimeoutMs: 6000 });
const write = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

void requester.start().then(() => write({ ready: true }));
createInterface({ input: process.stdin }).on('line', (line) => {
  const { id, productId, timeoutMs } = JSON.parse(line) as { id: string; productId: string; timeoutMs: number };
  write({ id, sent: true });
  requester
    .request({ topic: requestTopic, value: { productId, quantity: 1 }, timeoutMs })
    .then((reply) =>
      write({ id, status: reply.status, body: JSON.parse(reply.value!.toString()), stats: requester.stats() }),
    )
    .catch((error: Error) => write({ id, error: error.name, stats: requester.stats() }));
});
process.on('SIGTERM', () => void stop().finally(() => process.exit(0)));
