import { generateAuthTokenFromCredentialsProvider } from 'aws-msk-iam-sasl-signer-js';
import {
  cachedBootstrapBrokers,
  clearBrokerCache,
  createIamTokenProvider,
  getScramCredentials,
  MskSetupError,
  type TokenGenerator,
} from '../../../lib/kafka/msk';
import { stubKafkaClient, stubSecretsManagerClient, TEST_CREDENTIALS } from './aws-http-stub';

const CLUSTER_ARN = 'arn:aws:kafka:eu-west-1:123456789012:cluster/demo/6e1b4c2a-1f0e-4b8a-9c3d-2f5e7a9b1c0d-2';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_demo-AbCdEf';

/** the wire format of GetBootstrapBrokers (REST-JSON, lowerCamel member names) */
const BOOTSTRAP = {
  bootstrapBrokerString:
    'b-1.demo.abc.c2.kafka.eu-west-1.amazonaws.com:9092,b-2.demo.abc.c2.kafka.eu-west-1.amazonaws.com:9092',
  bootstrapBrokerStringTls: 'b-1.demo.abc.c2.kafka.eu-west-1.amazonaws.com:9094',
  bootstrapBrokerStringSaslScram: 'b-1.demo.abc.c2.kafka.eu-west-1.amazonaws.com:9096',
  bootstrapBrokerStringSaslIam:
    'b-1.demo.abc.c2.kafka.eu-west-1.amazonaws.com:9098,b-2.demo.abc.c2.kafka.eu-west-1.amazonaws.com:9098',
};

describe('bootstrap broker discovery (GetBootstrapBrokers through the real AWS SDK, HTTP stubbed)', () => {
  beforeEach(() => clearBrokerCache());

  it('asks the Kafka API of the cluster region for the cluster, and returns the IAM listener for auth iam', async () => {
    const { client, seen } = stubKafkaClient('eu-west-1', () => ({ status: 200, body: BOOTSTRAP }));

    const brokers = await cachedBootstrapBrokers({ clusterArn: CLUSTER_ARN, auth: 'iam', ssl: true, client });

    expect(brokers).toEqual([
      'b-1.demo.abc.c2.kafka.eu-west-1.amazonaws.com:9098',
      'b-2.demo.abc.c2.kafka.eu-west-1.amazonaws.com:9098',
    ]);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.method).toBe('GET');
    expect(seen[0]!.hostname).toBe('kafka.eu-west-1.amazonaws.com');
    expect(decodeURIComponent(seen[0]!.path)).toBe(`/v1/clusters/${CLUSTER_ARN}/bootstrap-brokers`);
    // signed with SigV4 for the kafka service in the region
    expect(seen[0]!.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/kafka\//,
    );
  });

  it.each([
    ['scram', true, ['b-1.demo.abc.c2.kafka.eu-west-1.amazonaws.com:9096']],
    ['none', true, ['b-1.demo.abc.c2.kafka.eu-west-1.amazonaws.com:9094']],
    [
      'none',
      false,
      ['b-1.demo.abc.c2.kafka.eu-west-1.amazonaws.com:9092', 'b-2.demo.abc.c2.kafka.eu-west-1.amazonaws.com:9092'],
    ],
  ] as const)('auth %s (ssl %s) gets the listener of that mechanism', async (auth, ssl, expected) => {
    const { client } = stubKafkaClient('eu-west-1', () => ({ status: 200, body: BOOTSTRAP }));
    expect(await cachedBootstrapBrokers({ clusterArn: CLUSTER_ARN, auth, ssl, client })).toEqual(expected);
  });

  it('asks once per container: later clients reuse the answer', async () => {
    const { client, seen } = stubKafkaClient('eu-west-1', () => ({ status: 200, body: BOOTSTRAP }));
    const options = { clusterArn: CLUSTER_ARN, auth: 'iam', ssl: true, client } as const;

    const answers = await Promise.all([cachedBootstrapBrokers(options), cachedBootstrapBrokers(options)]);
    await cachedBootstrapBrokers(options);

    expect(answers[0]).toEqual(answers[1]);
    expect(seen).toHaveLength(1);
  });

  it('a failure is not cached: the next connection asks again', async () => {
    let calls = 0;
    const { client } = stubKafkaClient('eu-west-1', () =>
      ++calls === 1
        ? { status: 503, body: { message: 'busy' }, headers: { 'x-amzn-errortype': 'ServiceUnavailableException' } }
        : { status: 200, body: BOOTSTRAP },
    );
    const options = { clusterArn: CLUSTER_ARN, auth: 'iam', ssl: true, client } as const;

    const first = await cachedBootstrapBrokers(options).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(MskSetupError);
    expect((first as MskSetupError).retriable).toBe(true);
    expect(await cachedBootstrapBrokers(options)).toHaveLength(2);
  });

  it('a missing permission is reported as a setup error naming the action', async () => {
    const { client } = stubKafkaClient('eu-west-1', () => ({
      status: 403,
      body: { message: 'User is not authorized to perform: kafka:GetBootstrapBrokers' },
      headers: { 'x-amzn-errortype': 'ForbiddenException' },
    }));

    const error = (await cachedBootstrapBrokers({ clusterArn: CLUSTER_ARN, auth: 'iam', ssl: true, client }).catch(
      (e: unknown) => e,
    )) as MskSetupError;

    expect(error).toBeInstanceOf(MskSetupError);
    expect(error.retriable).toBe(false);
    expect(error.message).toMatch(
      /GetBootstrapBrokers failed for arn:aws:kafka:.*not authorized.*kafka:GetBootstrapBrokers/,
    );
  });

  it('a cluster without the auth mode enabled is named in the error', async () => {
    const { client } = stubKafkaClient('eu-west-1', () => ({
      status: 200,
      body: { bootstrapBrokerStringTls: BOOTSTRAP.bootstrapBrokerStringTls },
    }));

    await expect(cachedBootstrapBrokers({ clusterArn: CLUSTER_ARN, auth: 'iam', ssl: true, client })).rejects.toThrow(
      /has no BootstrapBrokerStringSaslIam: enable that access method/,
    );
  });
});

/** Decode an MSK IAM token: the base64url of a presigned https URL. */
function decodeToken(token: string): URL {
  expect(token).toMatch(/^[A-Za-z0-9_-]+$/); // base64url, no padding
  return new URL(Buffer.from(token, 'base64url').toString('utf8'));
}

describe('MSK IAM token provider', () => {
  const signWithTestCredentials: TokenGenerator = (options) =>
    generateAuthTokenFromCredentialsProvider({ ...options, awsCredentialsProvider: async () => TEST_CREDENTIALS });

  it('gives kafkajs a presigned kafka-cluster:Connect URL for the region, valid 15 minutes', async () => {
    const provider = createIamTokenProvider({ region: 'eu-central-1', generateToken: signWithTestCredentials });

    const { value } = await provider();
    const url = decodeToken(value);

    expect(url.protocol).toBe('https:');
    expect(url.hostname).toBe('kafka.eu-central-1.amazonaws.com');
    expect(url.searchParams.get('Action')).toBe('kafka-cluster:Connect');
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(
      /^AKIDEXAMPLE\/\d{8}\/eu-central-1\/kafka-cluster\/aws4_request$/,
    );
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('signs with the default AWS credential chain when no generator is given (the function role on Lambda)', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIDFROMENV',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'tok',
    });
    delete process.env.AWS_PROFILE;
    try {
      const url = decodeToken((await createIamTokenProvider({ region: 'us-east-2' })()).value);
      expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^AKIDFROMENV\/\d{8}\/us-east-2\/kafka-cluster\//);
      expect(url.searchParams.get('X-Amz-Security-Token')).toBe('tok');
    } finally {
      process.env = saved;
    }
  });

  it('reuses a token while it is fresh and signs a new one before it expires', async () => {
    let clock = Date.parse('2026-11-22T03:00:00Z');
    const signed: string[] = [];
    const generateToken: TokenGenerator = async (options) => {
      const token = await signWithTestCredentials(options);
      signed.push(token.token);
      // the signer dates its own expiry from the real clock: restate it on the test clock
      return { token: `${token.token}${signed.length}`, expiryTime: clock + 15 * 60_000 };
    };
    const provider = createIamTokenProvider({
      region: 'eu-west-1',
      generateToken,
      refreshMarginMs: 5 * 60_000,
      now: () => clock,
    });

    const first = await provider();
    clock += 9 * 60_000; // 6 minutes left: more than the margin
    const second = await provider();
    clock += 2 * 60_000; // 4 minutes left: inside the margin, a new session must not get it
    const third = await provider();

    expect(second.value).toBe(first.value);
    expect(third.value).not.toBe(first.value);
    expect(signed).toHaveLength(2);
  });

  it('concurrent connections share one signing, and a failed signing is retried on the next call', async () => {
    let calls = 0;
    const provider = createIamTokenProvider({
      region: 'eu-west-1',
      generateToken: async (options) => {
        calls += 1;
        if (calls === 1) throw new Error('credentials not ready');
        return signWithTestCredentials(options);
      },
    });

    await expect(provider()).rejects.toThrow(/could not sign an MSK IAM token: credentials not ready/);
    const tokens = await Promise.all([provider(), provider(), provider()]);

    expect(new Set(tokens.map((t) => t.value)).size).toBe(1);
    expect(calls).toBe(2);
  });
});

describe('SCRAM credentials from Secrets Manager (real SDK, HTTP stubbed)', () => {
  it('reads username and password from the MSK secret', async () => {
    const { client, seen } = stubSecretsManagerClient('eu-west-1', () => ({
      status: 200,
      body: { ARN: SECRET_ARN, Name: 'AmazonMSK_demo', SecretString: '{"username":"alice","password":"s3cret"}' },
    }));

    expect(await getScramCredentials({ secretArn: SECRET_ARN, client })).toEqual({
      username: 'alice',
      password: 's3cret',
    });
    expect(seen[0]!.hostname).toBe('secretsmanager.eu-west-1.amazonaws.com');
    expect(seen[0]!.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
    expect(JSON.parse(seen[0]!.body)).toEqual({ SecretId: SECRET_ARN });
  });

  it('rejects a secret that is not in the MSK format, naming the format', async () => {
    const { client } = stubSecretsManagerClient('eu-west-1', () => ({
      status: 200,
      body: { ARN: SECRET_ARN, SecretString: 'alice:s3cret' },
    }));

    await expect(getScramCredentials({ secretArn: SECRET_ARN, client })).rejects.toThrow(
      /must be JSON \{"username": "…", "password": "…"\}/,
    );
  });
});
