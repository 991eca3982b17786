/**
 * The local event source on a secured cluster, as Lambda connects to one: a `kafka` event whose
 * accessConfigurations name a SCRAM-SHA-512 secret and a server root CA secret (read from files through
 * the plugin option `secrets`), against a private broker with SASL_SSL and a CA of its own. A CA that did
 * not sign the broker's certificate and a wrong password are each told in one line, nothing is consumed
 * or committed meanwhile and HTTP functions keep answering; once the secrets are corrected, the consumer
 * gets in by itself and the records arrive, in order, and are committed. The same with the secrets in
 * Secrets Manager (moto), where a rotated secret is read again.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Kafka, logLevel } from 'kafkajs';
import { startMoto, motoEnv, type Moto } from '../../../broker/moto';
import type { SecureBroker } from '../../../broker/secure';
import { createTopicsAt, startPrivateSecureBroker } from '../../helpers/secure-broker';
import { uniqueName, waitFor } from '../../helpers/kafka';
import { freePort, startOffline, type OfflineProcess } from '../../helpers/offline';

const FIXTURE = resolve(__dirname, '..', '..', 'fixtures', 'secured-event-source');
const user = { username: 'alice', password: 'alice-scram-secret' };

let dir: string;
let broker: SecureBroker;
let offline: OfflineProcess | undefined;
const topic = uniqueName('secured');
const files = () => ({
  scram: join(dir, 'scram.json'),
  ca: join(dir, 'ca.json'),
  report: join(dir, 'report.jsonl'),
});
const caSecret = (pemFile: string) => JSON.stringify({ certificate: readFileSync(pemFile, 'utf8') });
const delivered = (): string[] => {
  try {
    return readFileSync(files().report, 'utf8')
      .split('\n')
      .filter(Boolean)
      .flatMap((line) => (JSON.parse(line) as { values: string[] }).values);
  } catch {
    return [];
  }
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'es-auth-'));
  broker = await startPrivateSecureBroker(user);
  await createTopicsAt(broker.plaintext, [{ topic, numPartitions: 1 }]);
}, 180_000);

afterAll(async () => {
  await offline?.stop();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 90_000);

it('tells a CA it does not trust, then a wrong password, once each; consumes once the secrets are right', async () => {
  // a CA that did not sign the broker's certificate, and a wrong password
  const otherCa = join(dir, 'other-ca.pem');
  const made = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1'].concat([
      '-subj',
      '/CN=another CA',
      '-keyout',
      join(dir, 'other-ca.key'),
      '-out',
      otherCa,
    ]),
  );
  expect(made.status).toBe(0);
  writeFileSync(files().ca, caSecret(otherCa));
  writeFileSync(files().scram, JSON.stringify({ username: user.username, password: 'not-the-password' }));
  offline = await startOffline({
    cwd: FIXTURE,
    config: 'secured.yml',
    env: {
      TOPIC: topic,
      SECURE_BROKERS: broker.scram,
      SCRAM_SECRET_FILE: files().scram,
      CA_SECRET_FILE: files().ca,
      REPORT_FILE: files().report,
    },
    timeoutMs: 120_000,
  });
  const producer = new Kafka({ brokers: [broker.plaintext], logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  await producer.send({ topic, messages: ['a', 'b', 'c'].map((value) => ({ value })) });
  await producer.disconnect();

  const untrusted =
    /secured <- \S+: cannot authenticate to Kafka at \S+ over SASL_SSL \(SCRAM-SHA-512\): the broker's TLS certificate is not trusted/g;
  await offline.waitForOutput(untrusted, 60_000);
  // retried quietly: several attempts (200 ms to 1 s apart), still one line
  await new Promise((r) => setTimeout(r, 4_000));
  expect(offline.output().match(untrusted)).toHaveLength(1);
  expect(await (await fetch(`${offline.url}/ping`)).text()).toBe('pong');

  writeFileSync(files().ca, caSecret(broker.caFile));
  const refused =
    /secured <- \S+: cannot authenticate to Kafka at \S+ over SASL_SSL \(SCRAM-SHA-512\): the broker refused the credentials/g;
  await offline.waitForOutput(refused, 60_000);
  await new Promise((r) => setTimeout(r, 4_000));
  expect(offline.output().match(refused)).toHaveLength(1);
  // kafkajs's own line for every refused attempt is not shown: the one line above says it
  expect(offline.output()).not.toMatch(/kafkajs: .*authentication failed/i);
  expect(delivered()).toEqual([]);
  const admin = new Kafka({ brokers: [broker.plaintext], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  // the group's committed offset; a fresh broker's coordinator may still be loading: asked again
  const committed = async () => {
    let offset = '';
    await waitFor(
      async () => {
        const [answer] = await admin
          .fetchOffsets({ groupId: `es-secured-local-secured-${topic}`, topics: [topic] })
          .catch(() => [undefined]);
        offset = answer?.partitions[0]?.offset ?? '';
        return offset !== '';
      },
      { timeoutMs: 30_000, what: 'the group coordinator' },
    );
    return offset;
  };
  try {
    expect(await committed()).toBe('-1');

    writeFileSync(files().scram, JSON.stringify(user));
    await offline.waitForOutput(/secured <- \S+: authenticated over SASL_SSL \(SCRAM-SHA-512\), consuming/, 60_000);
    await offline.waitForOutput(
      /kafka: ready: 1 consumer\(s\) hold their partitions: secured <- \S+ \[0\] group \S+ over SASL_SSL \(SCRAM-SHA-512\)/,
      30_000,
    );
    await waitFor(() => delivered().length === 3, { timeoutMs: 30_000, what: 'the three records' });
    expect(delivered()).toEqual(['a', 'b', 'c']);
    await waitFor(async () => (await committed()) === '3', { timeoutMs: 30_000, what: 'offset 3 to be committed' });
  } finally {
    await admin.disconnect();
  }
}, 240_000);

it('reads the secrets from Secrets Manager (moto) and picks up a rotated password by itself', async () => {
  let moto: Moto | undefined;
  let sm: OfflineProcess | undefined;
  const smTopic = uniqueName('secured-sm');
  const report = join(dir, 'report-sm.jsonl');
  try {
    moto = await startMoto(await freePort());
    const env = motoEnv(moto);
    const client = new SecretsManagerClient({
      region: env.AWS_REGION,
      endpoint: moto.endpoint,
      credentials: { accessKeyId: 'moto', secretAccessKey: 'moto' },
    });
    const scram = await client.send(
      new CreateSecretCommand({
        Name: 'AmazonMSK_local',
        SecretString: JSON.stringify({ ...user, password: 'stale' }),
      }),
    );
    const ca = await client.send(new CreateSecretCommand({ Name: 'local-ca', SecretString: caSecret(broker.caFile) }));
    await createTopicsAt(broker.plaintext, [{ topic: smTopic, numPartitions: 1 }]);
    sm = await startOffline({
      cwd: FIXTURE,
      config: 'secrets-manager.yml',
      env: {
        ...env,
        TOPIC: smTopic,
        SECURE_BROKERS: broker.scram,
        SCRAM_SECRET_ARN: scram.ARN!,
        CA_SECRET_ARN: ca.ARN!,
        REPORT_FILE: report,
      },
    });
    await sm.waitForOutput(
      /secured <- \S+: cannot authenticate to Kafka at \S+ over SASL_SSL \(SCRAM-SHA-512\): the broker refused the credentials/,
      60_000,
    );
    await client.send(new PutSecretValueCommand({ SecretId: scram.ARN!, SecretString: JSON.stringify(user) }));
    await sm.waitForOutput(
      /kafka: ready: 1 consumer\(s\) hold their partitions: secured <- \S+ \[0\] group \S+ over SASL_SSL \(SCRAM-SHA-512\)/,
      60_000,
    );
    const producer = new Kafka({ brokers: [broker.plaintext], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({ topic: smTopic, messages: [{ value: 'rotated' }] });
    await producer.disconnect();
    await waitFor(() => existsSync(report) && readFileSync(report, 'utf8').includes('"rotated"'), {
      timeoutMs: 30_000,
      what: 'the record to be delivered',
    });
  } finally {
    await sm?.stop();
    await moto?.stop();
  }
}, 180_000);
