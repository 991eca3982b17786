/**
 * `npm run broker -- up --secure` as a user runs it: a secured broker on 127.0.0.1:9096 (SASL_SSL,
 * SCRAM-SHA-512) with a certificate from a CA made at start-up, told in its output with how Kafka's own
 * tools connect; a client that trusts the CA and knows the password gets in, a wrong password does not;
 * `npm run kafka` works against it with the printed client settings; `npm start -- --secure` runs the
 * whole service on it (secrets in moto); `down --secure` stops it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { createTopics } from 'kafkajs-resilience';
import { SECURE_PORTS, SECURE_USER } from '../../broker/secure';
import { uniqueName } from '../helpers/kafka';
import { freePort } from '../helpers/offline';
import { npmRun, startProcess } from '../helpers/process';

const ROOT = resolve(__dirname, '..', '..');
const TSX = resolve(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

/** `npm run --silent <script> -- <args>` as a user types it, with its output (killed after `timeoutMs`). */
const scram = `127.0.0.1:${SECURE_PORTS.scram}`;
let up: { code: number; output: string };
let caFile: string;

const client = (password: string): KafkaConfig => ({
  clientId: 'secure-broker-test',
  brokers: [scram],
  ssl: { ca: [readFileSync(caFile, 'utf8')] },
  sasl: { mechanism: 'scram-sha-512', username: SECURE_USER.username, password },
  connectionTimeout: 5_000,
  retry: { retries: 0 },
  logLevel: logLevel.NOTHING,
});

beforeAll(async () => {
  up = await npmRun('broker', ['up', '--secure']);
  caFile = /the CA that signed its certificate and the client's: (\S+)/.exec(up.output)?.[1] ?? '';
}, 200_000);

afterAll(async () => {
  await npmRun('broker', ['down', '--secure'], {}, 60_000);
}, 70_000);

it('starts and says where it listens, who the user is, where the CA is, and how the tools connect', () => {
  expect(up).toEqual({ code: 0, output: expect.stringContaining(`SASL_SSL (SCRAM-SHA-512) at ${scram}`) });
  expect(up.output).toContain(`user ${SECURE_USER.username}, password ${SECURE_USER.password}`);
  expect(up.output).toMatch(/KAFKA_BROKERS=127\.0\.0\.1:9096 npm run kafka -- topics --list --command-config \S+/);
  expect(existsSync(caFile)).toBe(true);
  expect(readFileSync(caFile, 'utf8')).toContain('BEGIN CERTIFICATE');
});

it('lets in a client that trusts the CA and knows the password, and refuses a wrong password', async () => {
  const topic = uniqueName('secure');
  const admin = new Kafka(client(SECURE_USER.password)).admin();
  await admin.connect();
  try {
    await createTopics(admin, [{ topic, numPartitions: 1 }]);
    expect(await admin.listTopics()).toContain(topic);
  } finally {
    await admin.disconnect();
  }
  const intruder = new Kafka(client('not-the-password')).admin();
  await expect(intruder.connect()).rejects.toThrow(/SASL SCRAM SHA512 authentication failed|Authentication failed/i);
  await intruder.disconnect();

  // Kafka's own tools, with the client settings the output names
  const config = /--command-config (\S+)/.exec(up.output)![1]!;
  const listed = await npmRun(
    'kafka',
    ['topics', '--list', '--command-config', config],
    { KAFKA_BROKERS: scram },
    90_000,
  );
  expect(listed).toEqual({ code: 0, output: expect.stringContaining(topic) });
}, 120_000);

it('npm start -- --secure --glue runs the service on it: the consumers over SASL_SSL, both examples answer, Avro through Glue', async () => {
  const prefix = `${uniqueName('ss')}-`;
  const [http, lambda, websocket] = [await freePort(), await freePort(), await freePort()];
  const start = startProcess(
    'npm start -- --secure --glue',
    process.execPath,
    [TSX, 'scripts/start.ts', '--secure', '--glue', '--json'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        KAFKA_TOPIC_PREFIX: prefix,
        HTTP_PORT: String(http),
        LAMBDA_PORT: String(lambda),
        WEBSOCKET_PORT: String(websocket),
        LOG_LEVEL: 'warn',
      },
    },
  );
  try {
    // the secured broker `up` started above is reused, and left running
    await start.waitForOutput(/already running/, 60_000);
    const ready = await start.waitForOutput(/kafka: ready: 6 consumer\(s\).*/, 180_000);
    expect(ready[0].match(/over SASL_SSL \(SCRAM-SHA-512\)/g)).toHaveLength(6);
    const post = (path: string, body: unknown) =>
      fetch(`http://127.0.0.1:${http}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const quote = await post('/quotes', { productId: 'book-42', quantity: 120 });
    expect(quote.status).toBe(200);
    expect(await quote.json()).toMatchObject({ productId: 'book-42', quantity: 120, totalCents: expect.any(Number) });
    const order = await post('/orders', {
      customerId: 'c-1',
      items: [{ sku: 'book-1', quantity: 2, unitPriceCents: 1250 }],
    });
    expect(order.status).toBe(202);
    // fulfilled: fulfil-order published order.fulfilled, which the fan-out listeners received
    await start.waitForOutput(
      /kafka: fulfil-order \S+-orders-\d+ offset \d+ \(1 records\) attempt 1 \d+ ms ok/,
      60_000,
    );
    await start.waitForOutput(
      /kafka: audit-log \S+-order-events-\d+ offset \d+ \(1 records\) attempt 1 \d+ ms ok/,
      60_000,
    );
    // update-analytics registered its Avro schema in Glue (moto) and record-revenue's event source read it back
    await start.waitForOutput(
      /kafka: record-revenue \S+-order-analytics-\d+ offset \d+ \(1 records\) attempt 1 \d+ ms ok/,
      60_000,
    );
  } finally {
    // start.ts hands SIGTERM to serverless offline, then stops moto
    await start.stop(30_000, 'SIGTERM');
  }
  expect(start.output()).toMatch(/Secrets Manager \(moto, pid \d+\)/);
  // the same moto serves Glue; no Avro write failed on the way
  expect(start.output()).toMatch(/Glue Schema Registry \(moto\) at http:\/\/127\.0\.0\.1:\d+: arn:aws:glue:/);
  expect(start.output()).not.toMatch(/SchemaRegistry(Unavailable|Refused)Error/);
}, 300_000);

it('a second up finds it running; down --secure stops it', async () => {
  const again = await npmRun('broker', ['up', '--secure']);
  expect(again.output).toContain('already running');
  const down = await npmRun('broker', ['down', '--secure'], {}, 60_000);
  expect(down.output).toMatch(/stopping the secured broker \(pid \d+\)/);
  const admin = new Kafka(client(SECURE_USER.password)).admin();
  await expect(admin.connect()).rejects.toThrow();
  await admin.disconnect();
}, 120_000);
