import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authProblem, connectionSettings, describeClusterAuth, readClusterAuth } from '../../src/cluster-auth';
import { createSecretReader } from '../../src/secrets';

const SCRAM = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:scram-AbCdEf';
const CA = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ca-AbCdEf';
const missingSecrets = (arn: string) => Promise.reject(new Error(`no secret ${arn}`));
const MTLS = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mtls-AbCdEf';
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIE\n-----END ENCRYPTED PRIVATE KEY-----\n';

describe('readClusterAuth', () => {
  it("reads a kafka event's accessConfigurations as osls writes them (lists of ARNs) and an msk event's saslScram512", () => {
    expect(
      readClusterAuth('f', 'kafka', {
        accessConfigurations: { saslScram512Auth: [SCRAM], serverRootCaCertificate: [CA], vpcSubnet: ['subnet-1'] },
      }),
    ).toEqual({ sasl: { mechanism: 'scram-sha-512', secretArn: SCRAM }, serverRootCaSecretArn: CA });
    expect(readClusterAuth('f', 'kafka', { accessConfigurations: { saslPlainAuth: SCRAM } })?.sasl?.mechanism).toBe(
      'plain',
    );
    expect(readClusterAuth('f', 'msk', { saslScram512: SCRAM })?.sasl).toEqual({
      mechanism: 'scram-sha-512',
      secretArn: SCRAM,
    });
    expect(readClusterAuth('f', 'kafka', {})).toBeUndefined();
    expect(readClusterAuth('f', 'kafka', { accessConfigurations: { vpcSubnet: ['subnet-1'] } })).toBeUndefined();
  });

  it('refuses two authentication methods', () => {
    expect(() =>
      readClusterAuth('function "f", kafka event', 'kafka', {
        accessConfigurations: { saslScram256Auth: [SCRAM], saslScram512Auth: [SCRAM] },
      }),
    ).toThrow('function "f", kafka event: accessConfigurations has saslScram256Auth and saslScram512Auth: choose one');
    expect(() =>
      readClusterAuth('f', 'kafka', {
        accessConfigurations: { saslPlainAuth: [SCRAM], clientCertificateTlsAuth: [MTLS] },
      }),
    ).toThrow('accessConfigurations has saslPlainAuth and clientCertificateTlsAuth: choose one');
  });

  it('names the security protocol as the ready line shows it', () => {
    expect(describeClusterAuth(undefined)).toBe('PLAINTEXT');
    expect(describeClusterAuth({ serverRootCaSecretArn: CA })).toBe('SSL');
    expect(describeClusterAuth({ clientCertificateSecretArn: MTLS, serverRootCaSecretArn: CA })).toBe(
      'SSL (client certificate)',
    );
    expect(describeClusterAuth({ sasl: { mechanism: 'scram-sha-512', secretArn: SCRAM } })).toBe(
      'SASL_SSL (SCRAM-SHA-512)',
    );
  });
});

describe('connectionSettings and the secrets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'secrets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const files = { [SCRAM]: 'scram.json', [CA]: join(dir, 'ca.json'), [MTLS]: 'mtls.json' };
  const readSecret = createSecretReader({ files, serviceDir: dir, region: 'eu-west-1' });
  const auth = {
    sasl: { mechanism: 'scram-sha-512' as const, secretArn: SCRAM },
    serverRootCaSecretArn: CA,
  };

  it('reads the mapped files at every call: SASL over TLS trusting the CA, a corrected file used next time', async () => {
    writeFileSync(join(dir, 'scram.json'), JSON.stringify({ username: 'u', password: 'old' }));
    writeFileSync(join(dir, 'ca.json'), JSON.stringify({ certificate: PEM }));
    expect(await connectionSettings(auth, readSecret)).toEqual({
      ssl: { ca: [PEM] },
      sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'old' },
    });
    writeFileSync(join(dir, 'scram.json'), JSON.stringify({ username: 'u', password: 'new' }));
    expect((await connectionSettings(auth, readSecret)).sasl).toMatchObject({ password: 'new' });
    expect(await connectionSettings({ sasl: auth.sasl }, readSecret)).toMatchObject({ ssl: true });
  });

  it('reads a client certificate secret as AWS documents it: certificate chain, private key, its password', async () => {
    writeFileSync(join(dir, 'ca.json'), JSON.stringify({ certificate: PEM }));
    writeFileSync(
      join(dir, 'mtls.json'),
      JSON.stringify({ certificate: PEM, privateKey: KEY, privateKeyPassword: 'p' }),
    );
    const mtls = { clientCertificateSecretArn: MTLS, serverRootCaSecretArn: CA };
    expect(await connectionSettings(mtls, readSecret)).toEqual({
      ssl: { ca: [PEM], cert: PEM, key: KEY, passphrase: 'p' },
    });
    writeFileSync(join(dir, 'mtls.json'), JSON.stringify({ certificate: PEM }));
    expect(authProblem(await connectionSettings(mtls, readSecret).catch((e: unknown) => e))).toBe(
      `the secret ${MTLS} (clientCertificateTlsAuth) needs "certificate" and "privateKey" in PEM (and "privateKeyPassword" for an encrypted key)`,
    );
  });

  it('says which secret and which field is wrong, as an authentication problem', async () => {
    writeFileSync(join(dir, 'scram.json'), JSON.stringify({ user: 'u' }));
    const missingFields = await connectionSettings(auth, readSecret).catch((e: unknown) => e);
    expect(authProblem(missingFields)).toBe(`the secret ${SCRAM} (SCRAM-SHA-512) needs "username" and "password"`);
    rmSync(join(dir, 'scram.json'));
    const missingFile = await connectionSettings(auth, readSecret).catch((e: unknown) => e);
    expect(authProblem(missingFile)).toMatch(
      new RegExp(
        `the secret ${SCRAM} \\(SCRAM-SHA-512\\) cannot be read: .*secrets maps it to .*scram.json, which cannot be read \\(ENOENT\\)`,
      ),
    );
    writeFileSync(join(dir, 'ca.json'), JSON.stringify({ certificate: 'not a PEM' }));
    expect(authProblem(await connectionSettings(auth, readSecret).catch((e: unknown) => e))).toContain(
      'has no "certificate" field',
    );
  });
});

describe('MSK IAM', () => {
  it('signs a token for the cluster region before connecting and again for every connection kafkajs opens', async () => {
    const regions: string[] = [];
    let n = 0;
    const sign = async (region: string) => {
      regions.push(region);
      n += 1;
      return { token: `token-${n}` };
    };
    const settings = await connectionSettings({ iam: { region: 'eu-central-1' } }, missingSecrets, sign);
    expect(settings.ssl).toBe(true);
    expect(settings.sasl?.mechanism).toBe('oauthbearer');
    const provider = (settings.sasl as { oauthBearerProvider: () => Promise<{ value: string }> }).oauthBearerProvider;
    expect(await provider()).toEqual({ value: 'token-2' });
    expect(await provider()).toEqual({ value: 'token-3' });
    expect(regions).toEqual(['eu-central-1', 'eu-central-1', 'eu-central-1']);
    expect(describeClusterAuth({ iam: { region: 'eu-central-1' } })).toBe('SASL_SSL (OAUTHBEARER, MSK IAM)');
  });

  it('tells missing AWS credentials before connecting, and a refused token as a matter of IAM permissions', async () => {
    const noCredentials = async () => {
      throw new Error('Could not load credentials from any providers');
    };
    const auth = { iam: { region: 'eu-west-1' } };
    const error = await connectionSettings(auth, missingSecrets, noCredentials).catch((e: unknown) => e);
    expect(authProblem(error, auth)).toBe(
      'an MSK IAM token for eu-west-1 cannot be signed with your AWS credentials (Could not load credentials from any providers): ' +
        'set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY',
    );
    const refused = Object.assign(new Error('SASL OAUTHBEARER authentication failed: Access denied'), {
      name: 'KafkaJSSASLAuthenticationError',
    });
    expect(authProblem(refused, auth)).toMatch(/^the broker refused the MSK IAM token .*kafka-cluster:Connect/);
  });

  it("the default signer is aws-msk-iam-sasl-signer-js's, with the developer's credential chain", () => {
    // the built package (its dynamic import() runs in Node, not in jest's module system)
    const dist = join(__dirname, '../../dist/cluster-auth.js');
    const script = `require(${JSON.stringify(dist)}).signWithOwnCredentials('eu-west-1').then((t) => process.stdout.write(t.token))`;
    const env = { PATH: process.env.PATH, AWS_ACCESS_KEY_ID: 'AKIDLOCAL', AWS_SECRET_ACCESS_KEY: 'local-secret' };
    const run = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const url = new URL(Buffer.from(run.stdout, 'base64url').toString());
    expect(url.host).toBe('kafka.eu-west-1.amazonaws.com');
    expect(url.searchParams.get('Action')).toBe('kafka-cluster:Connect');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(
      /^AKIDLOCAL\/\d{8}\/eu-west-1\/kafka-cluster\/aws4_request$/,
    );
  });
});

describe('authProblem', () => {
  it("tells refused credentials and an untrusted certificate, through kafkajs's wrapping; not an unreachable broker", () => {
    const refused = Object.assign(new Error('SASL SCRAM SHA512 authentication failed'), {
      name: 'KafkaJSSASLAuthenticationError',
    });
    expect(authProblem(refused)).toMatch(/^the broker refused the credentials/);
    // as kafkajs's connection.js builds it: Node's verification code copied onto its own error, wrapped
    const untrusted = new Error('gave up', {
      cause: Object.assign(new Error('Connection error: self-signed certificate in certificate chain'), {
        name: 'KafkaJSConnectionError',
        code: 'SELF_SIGNED_CERT_IN_CHAIN',
      }),
    });
    expect(authProblem(untrusted)).toMatch(
      /^the broker's TLS certificate is not trusted \(Connection error: self-signed certificate in certificate chain\)/,
    );
    expect(authProblem(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBeUndefined();
  });
});
