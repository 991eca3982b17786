/**
 * The client factory (lib/kafka/client.ts) against a real broker that authenticates like MSK: TLS with a
 * private CA, and SCRAM-SHA-512 over TLS, including the AWS path where the brokers come from
 * GetBootstrapBrokers and the credentials from Secrets Manager (both AWS APIs answered by the real SDK
 * with its HTTP layer stubbed).

 *
 * And the local event source on the same broker, as Lambda connects to a secured cluster: a `kafka` event
 * whose accessConfigurations name a SCRAM-SHA-512 secret and a server root CA secret, read from files
 * (the plugin option `secrets`) or from Secrets Manager (moto). A CA that did not sign the broker's
 * certificate and a wrong password are each told in one line, nothing is consumed or committed meanwhile
 * and HTTP functions keep answering; once the secrets are corrected (or rotated), the consumer gets in by
 * itself and the records arrive, in order, and are committed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Kafka, logLevel, type Kafka as KafkaClient } from 'kafkajs';
import { startMoto, motoEnv, type Moto } from '../../../broker/moto';
import { loadConfig } from '../../../lib/config';
import { BrokerUnavailableError } from '../../../lib/errors';
import { createKafka } from '../../../lib/kafka/client';
import { clearBrokerCache } from '../../../lib/kafka/msk';
import { createPublisher } from '../../../lib/kafka/producer';
import { createLogger } from '../../../lib/logger';
import { createRuntime } from '../../../lib/runtime';
import { uniqueName, waitFor } from '../../helpers/kafka';
import { freePort, startOffline, type OfflineProcess } from '../../helpers/offline';
import { stubKafkaClient, stubSecretsManagerClient } from '../../unit/deploy/aws-http-stub';
import type { SecureBroker } from '../../../broker/secure';
import { createTopicsAt, startPrivateSecureBroker } from '../../helpers/secure-broker';

const logger = createLogger({ level: 'silent' });
const CLUSTER_ARN = 'arn:aws:kafka:eu-west-1:123456789012:cluster/demo/6e1b4c2a-1f0e-4b8a-9c3d-2f5e7a9b1c0d-2';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_demo-AbCdEf';

const user = { username: 'alice', password: 'alice-scram-secret' };
let broker: SecureBroker;
let topic: string;

beforeAll(async () => {
  broker = await startPrivateSecureBroker(user);
  topic = uniqueName('auth');
  await createTopicsAt(broker.plaintext, [{ topic, numPartitions: 1 }]);
}, 180_000);

afterAll(async () => {
  await broker?.stop();
}, 60_000);

/** Publish one message through the project's publisher and read it back with a consumer of the same client. */
async function roundTrip(kafka: KafkaClient, value: string): Promise<string[]> {
  const publisher = createPublisher({ kafka, logger, timeoutMs: 30_000 });
  const consumer = kafka.consumer({ groupId: uniqueName('auth-reader') });
  const seen: string[] = [];
  try {
    await publisher.publish(topic, [{ key: 'k', value }]);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(String(message.value)) });
    await waitFor(() => seen.includes(value), { timeoutMs: 60_000, what: `"${value}" to be consumed` });
  } finally {
    await consumer.disconnect();
    await publisher.disconnect();
  }
  return seen;
}

/** The error a client meets when it connects (admin connect = the first broker round trip). */
async function connectError(kafka: KafkaClient): Promise<Error | undefined> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return undefined;
  } catch (error) {
    return error as Error;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

const noRetry = { retry: { retries: 0 } };

/** The functions' environment for SCRAM-SHA-512 over TLS to the test broker, with `password`. */
const scramEnv = (password: string) => ({
  KAFKA_BROKERS: broker.scram,
  KAFKA_AUTH: 'scram',
  KAFKA_SASL_USERNAME: broker.user.username,
  KAFKA_SASL_PASSWORD: password,
  KAFKA_SSL: 'true',
  KAFKA_SSL_CA_FILE: broker.caFile,
});

/** The end offsets of the test topic, read over the plaintext listener. */
async function plaintextOffsets(): Promise<string[]> {
  const admin = new Kafka({ clientId: 'auth-check', brokers: [broker.plaintext], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).map((o) => o.high);
  } finally {
    await admin.disconnect();
  }
}

describe('client factory over TLS (a private CA, as a self-managed cluster; MSK port 9094)', () => {
  it('publishes and consumes when KAFKA_SSL=true and the CA is trusted through KAFKA_SSL_CA_FILE', async () => {
    const config = loadConfig({ KAFKA_BROKERS: broker.tls, KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: broker.caFile });

    expect(await roundTrip(createKafka({ config, logger }), 'over-tls')).toContain('over-tls');
  });

  it('refuses a broker whose certificate it cannot verify (no silent fallback to an unverified connection)', async () => {
    const config = loadConfig({ KAFKA_BROKERS: broker.tls, KAFKA_SSL: 'true' });

    const error = await connectError(createKafka({ config, logger, overrides: noRetry }));

    expect(error?.message).toMatch(/self[- ]signed certificate|unable to verify|unable to get local issuer/i);
  });
});

describe('client factory with SCRAM-SHA-512 over TLS (MSK port 9096)', () => {
  it('publishes and consumes with the credentials from KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD', async () => {
    const config = loadConfig(scramEnv(broker.user.password));

    expect(await roundTrip(createKafka({ config, logger }), 'over-scram')).toContain('over-scram');
  });

  it('a wrong password is an authentication error, not a hang', async () => {
    const config = loadConfig(scramEnv('wrong'));

    const error = await connectError(createKafka({ config, logger, overrides: noRetry }));

    expect(error?.name).toBe('KafkaJSSASLAuthenticationError');
    expect(error?.message).toMatch(/SCRAM/);
  });

  it("a function with a wrong password answers every call with Kafka's refusal and logs it once, with what to fix", async () => {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const rt = createRuntime({
      env: { ...scramEnv('wrong'), PUBLISH_TIMEOUT_MS: '10000' },
      logger: createLogger({ destination, level: 'info' }),
    });
    const before = await plaintextOffsets();
    try {
      for (let i = 0; i < 5; i += 1) {
        const error = await rt.publisher.publish(topic, [{ key: 'k', value: `refused-${i}` }]).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(BrokerUnavailableError); // a 503 for an HTTP caller, a retried batch for a consumer
      }
    } finally {
      await rt.publisher.disconnect();
    }
    const loud = lines.filter((l) => l.level === 'warn' || l.level === 'error');
    expect(loud.map((l) => l.msg)).toEqual([
      expect.stringMatching(
        /^Kafka refused the producer \(SASL SCRAM SHA512 authentication failed: .*\): check the SASL username and password/,
      ),
    ]);
    expect(loud[0]).toMatchObject({ event: 'kafka.refused', refusal: 'credentials' });
    expect(await plaintextOffsets()).toEqual(before); // nothing written
  });

  it('on AWS: brokers from GetBootstrapBrokers (asked once) and credentials from the Secrets Manager secret', async () => {
    clearBrokerCache();
    const discovery = stubKafkaClient('eu-west-1', () => ({
      status: 200,
      // the SCRAM listener is the one a scram client must be given; the others must not be used
      body: { bootstrapBrokerStringSaslScram: broker.scram, bootstrapBrokerStringTls: broker.tls },
    }));
    const secrets = stubSecretsManagerClient('eu-west-1', () => ({
      status: 200,
      body: { ARN: SECRET_ARN, SecretString: JSON.stringify(broker.user) },
    }));
    // what the deployed function's environment holds: no broker list, no password
    const config = loadConfig({
      MSK_CLUSTER_ARN: CLUSTER_ARN,
      KAFKA_AUTH: 'scram',
      KAFKA_SASL_SECRET_ARN: SECRET_ARN,
      KAFKA_SSL_CA_FILE: broker.caFile,
    });
    const aws = { kafka: discovery.client, secretsManager: secrets.client };

    expect(config.kafka.ssl).toBe(true); // MSK offers SCRAM only over TLS
    expect(await roundTrip(createKafka({ config, logger, aws }), 'over-msk-scram')).toContain('over-msk-scram');
    // a second client of the same container reuses the discovered brokers
    expect(await connectError(createKafka({ config, logger, aws }))).toBeUndefined();

    expect(discovery.seen).toHaveLength(1);
    expect(decodeURIComponent(discovery.seen[0]!.path)).toContain(CLUSTER_ARN);
    expect(secrets.seen.length).toBeGreaterThanOrEqual(1);
  });

  it('on AWS: a secret that cannot be read fails the connection with a message naming it', async () => {
    clearBrokerCache();
    const discovery = stubKafkaClient('eu-west-1', () => ({
      status: 200,
      body: { bootstrapBrokerStringSaslScram: broker.scram },
    }));
    const secrets = stubSecretsManagerClient('eu-west-1', () => ({
      status: 400,
      body: { __type: 'AccessDeniedException', message: 'not authorized to perform: secretsmanager:GetSecretValue' },
      headers: { 'content-type': 'application/x-amz-json-1.1' },
    }));
    const config = loadConfig({ MSK_CLUSTER_ARN: CLUSTER_ARN, KAFKA_AUTH: 'scram', KAFKA_SASL_SECRET_ARN: SECRET_ARN });

    const error = await connectError(
      createKafka({
        config,
        logger,
        overrides: noRetry,
        aws: { kafka: discovery.client, secretsManager: secrets.client },
      }),
    );

    expect(error?.message).toContain(`could not read the SCRAM secret ${SECRET_ARN}`);
    expect(discovery.seen).toHaveLength(0); // nothing connects before the credentials are known
  });
});

/** An unsecured JWT (alg none): what Kafka's built-in OAUTHBEARER validator accepts. */
function unsecuredJwt(subject: string, lifetimeSeconds: number): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none' })}.${part({ sub: subject, iat: now, exp: now + lifetimeSeconds })}.`;
}

describe('client factory with KAFKA_AUTH=iam (OAUTHBEARER over TLS, MSK port 9098)', () => {
  const iamConfig = () =>
    loadConfig({
      KAFKA_BROKERS: broker.oauth,
      KAFKA_AUTH: 'iam',
      AWS_REGION: 'eu-west-1',
      KAFKA_SSL_CA_FILE: broker.caFile,
    });

  it('authenticates every connection with the token of the provider, signed for the region', async () => {
    const regions: string[] = [];
    const generateIamToken = async ({ region }: { region: string }) => {
      regions.push(region);
      return { token: unsecuredJwt('iam-user', 900), expiryTime: Date.now() + 900_000 };
    };

    const kafka = createKafka({ config: iamConfig(), logger, aws: { generateIamToken } });

    expect(await roundTrip(kafka, 'over-oauthbearer')).toContain('over-oauthbearer');
    // several connections (producer, consumer, group coordinator) shared one fresh token
    expect(regions).toEqual(['eu-west-1']);
  });

  it('a token the broker rejects gets nothing through (the token really is what authenticates)', async () => {
    // an MSK-shaped token: this broker cannot validate SigV4, as MSK rejects a bad signature
    const generateIamToken = async () => ({
      token: Buffer.from('https://kafka.eu-west-1.amazonaws.com/?Action=kafka-cluster%3AConnect').toString('base64url'),
      expiryTime: Date.now() + 900_000,
    });
    const before = await plaintextOffsets();
    const publisher = createPublisher({
      kafka: createKafka({ config: iamConfig(), logger, overrides: noRetry, aws: { generateIamToken } }),
      logger,
      timeoutMs: 20_000,
    });

    const error = await publisher.publish(topic, [{ value: 'must-not-arrive' }]).catch((e: unknown) => e);
    await publisher.disconnect().catch(() => undefined);

    expect(error).toBeInstanceOf(BrokerUnavailableError);
    expect(await plaintextOffsets()).toEqual(before);
  });
});

const FIXTURE = resolve(__dirname, '..', '..', 'fixtures', 'secured-event-source');
let dir: string;
let offline: OfflineProcess | undefined;
const esTopic = uniqueName('secured');
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

/** Write `values` to `topic` through the broker's plaintext listener (no authentication in the way). */
async function produceAt(topic: string, values: string[]): Promise<void> {
  const producer = new Kafka({ brokers: [broker.plaintext], logLevel: logLevel.NOTHING }).producer();
  await producer.connect();
  await producer.send({ topic, messages: values.map((value) => ({ value })) });
  await producer.disconnect();
}

/** `pattern` (global) is printed, and after 2.5 s of quiet retries (200 ms to 1 s apart) still once. */
async function expectToldOnce(service: OfflineProcess, pattern: RegExp): Promise<void> {
  await service.waitForOutput(pattern, 60_000);
  await new Promise((r) => setTimeout(r, 2_500));
  expect(service.output().match(pattern)).toHaveLength(1);
}

/** The fixture's handler wrote `value` into `report`. */
const deliveredTo = (report: string, value: string) =>
  waitFor(() => existsSync(report) && readFileSync(report, 'utf8').includes(JSON.stringify(value)), {
    timeoutMs: 30_000,
    what: `"${value}" to be delivered`,
  });

describe('the local event source on this cluster (a kafka event with accessConfigurations)', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'es-auth-'));
    await createTopicsAt(broker.plaintext, [{ topic: esTopic, numPartitions: 1 }]);
  });

  afterAll(async () => {
    await offline?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

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
        TOPIC: esTopic,
        SECURE_BROKERS: broker.scram,
        SCRAM_SECRET_FILE: files().scram,
        CA_SECRET_FILE: files().ca,
        REPORT_FILE: files().report,
      },
      timeoutMs: 120_000,
    });
    await produceAt(esTopic, ['a', 'b', 'c']);

    const untrusted =
      /secured <- \S+: cannot authenticate to Kafka at \S+ over SASL_SSL \(SCRAM-SHA-512\): the broker's TLS certificate is not trusted/g;
    await expectToldOnce(offline, untrusted);
    expect(await (await fetch(`${offline.url}/ping`)).text()).toBe('pong');

    writeFileSync(files().ca, caSecret(broker.caFile));
    const refused =
      /secured <- \S+: cannot authenticate to Kafka at \S+ over SASL_SSL \(SCRAM-SHA-512\): the broker refused the credentials/g;
    await expectToldOnce(offline, refused);
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
            .fetchOffsets({ groupId: `es-secured-local-secured-${esTopic}`, topics: [esTopic] })
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

  it('authenticates with a client certificate (mutual TLS); one that the CA did not sign is told once', async () => {
    const mtlsTopic = uniqueName('secured-mtls');
    const report = join(dir, 'report-mtls.jsonl');
    const certSecret = join(dir, 'client-cert.json');
    const clientSecret = (certFile: string, keyFile: string) =>
      JSON.stringify({ certificate: readFileSync(certFile, 'utf8'), privateKey: readFileSync(keyFile, 'utf8') });
    // a certificate and key of the client's own making, which no CA the broker trusts signed
    const made = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=stranger'].concat([
        '-keyout',
        join(dir, 'stranger.key'),
        '-out',
        join(dir, 'stranger.pem'),
      ]),
    );
    expect(made.status).toBe(0);
    writeFileSync(certSecret, clientSecret(join(dir, 'stranger.pem'), join(dir, 'stranger.key')));
    writeFileSync(join(dir, 'ca-mtls.json'), caSecret(broker.caFile));
    await createTopicsAt(broker.plaintext, [{ topic: mtlsTopic, numPartitions: 1 }]);
    const mtls = await startOffline({
      cwd: FIXTURE,
      config: 'mtls.yml',
      env: {
        TOPIC: mtlsTopic,
        SECURE_BROKERS: broker.mtls,
        CLIENT_CERT_SECRET_FILE: certSecret,
        CA_SECRET_FILE: join(dir, 'ca-mtls.json'),
        REPORT_FILE: report,
      },
      timeoutMs: 120_000,
    });
    try {
      const refused = /secured <- \S+: cannot authenticate to Kafka at \S+ over SSL \(client certificate\): /g;
      await expectToldOnce(mtls, refused);

      const { certFile, keyFile } = broker.clientCertificate;
      writeFileSync(certSecret, clientSecret(certFile, keyFile));
      await mtls.waitForOutput(
        /kafka: ready: 1 consumer\(s\) hold their partitions: secured <- \S+ \[0\] group \S+ over SSL \(client certificate\)/,
        60_000,
      );
      await produceAt(mtlsTopic, ['with a certificate']);
      await deliveredTo(report, 'with a certificate');
    } finally {
      await mtls.stop();
    }
    // the listener really requires the certificate: the same TLS without one gets nothing through
    const withoutCertificate = new Kafka({
      brokers: [broker.mtls],
      ssl: { ca: [readFileSync(broker.caFile, 'utf8')] },
      retry: { retries: 0 },
      logLevel: logLevel.NOTHING,
    });
    expect(await connectError(withoutCertificate)).toBeDefined();
  }, 180_000);

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
      const ca = await client.send(
        new CreateSecretCommand({ Name: 'local-ca', SecretString: caSecret(broker.caFile) }),
      );
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
      await produceAt(smTopic, ['rotated']);
      await deliveredTo(report, 'rotated');
    } finally {
      await sm?.stop();
      await moto?.stop();
    }
  }, 180_000);
});
