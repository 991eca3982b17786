import { createServer, type Server, type Socket } from 'node:net';
import { freePort, startOffline, type OfflineProcess } from '../helpers/offline';

const order = JSON.stringify({ customerId: 'c', items: [{ sku: 's', quantity: 1, unitPriceCents: 1 }] });

async function expect503(offline: OfflineProcess, attempts = 2): Promise<void> {
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const response = await fetch(`${offline.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: order,
      signal: AbortSignal.timeout(20_000), // a hang fails the test
    });
    if (response.status !== 503) {
      // say everything: a wrong answer here has to explain itself
      throw new Error(
        `attempt ${attempt}: ${response.status} ${await response.text()}\n${offline.output().slice(-4000)}`,
      );
    }
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    const json = (await response.json()) as { error: { code: string; message: string } };
    expect(json.error.code).toBe('BROKER_UNAVAILABLE');
    expect(json.error.message).toMatch(/Kafka broker/);
  }
}

/** POST /orders answers 503 with Retry-After when the broker cannot take the order: it never hangs. */
describe('POST /orders when the broker is down', () => {
  it('answers 503 when nothing listens at KAFKA_BROKERS (connection refused)', async () => {
    // port 1 is privileged and unused: connecting is refused at once
    const offline = await startOffline({ env: { KAFKA_BROKERS: '127.0.0.1:1', PUBLISH_TIMEOUT_MS: '2000' } });
    try {
      await expect503(offline);
    } finally {
      await offline.stop();
    }
  });

  it('answers 503 at the publish deadline when the broker accepts connections but never answers', async () => {
    const sockets = new Set<Socket>();
    const blackHole: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    const port = await freePort();
    await new Promise<void>((r) => blackHole.listen(port, '127.0.0.1', r));
    const offline = await startOffline({ env: { KAFKA_BROKERS: `127.0.0.1:${port}`, PUBLISH_TIMEOUT_MS: '2000' } });
    try {
      await expect503(offline, 1);
      // the function logs from its worker thread, whose stdout reaches serverless offline's asynchronously:
      // the line may arrive just after the HTTP answer
      await offline.waitForOutput(/did not acknowledge within 2000 ms/, 10_000);
    } finally {
      await offline.stop();
      sockets.forEach((s) => s.destroy());
      await new Promise((r) => blackHole.close(r));
    }
  });
});
