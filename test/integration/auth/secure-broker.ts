/**
 * A second, private Apache Kafka broker for the authentication tests, speaking what MSK speaks: a TLS
 * listener (MSK port 9094) and a SASL_SSL SCRAM-SHA-512 listener (MSK port 9096), with a certificate
 * from a CA made here with openssl. It runs from the jars `npm run broker -- up` cached, in its own
 * temporary folder and on free ports, so the shared broker at 127.0.0.1:9092 is never touched.
 * Stopped by its pid.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isReachable, paths, singleNodeProperties } from '../../../broker/broker';
import { waitFor } from '../../helpers/kafka';
import { freePort } from '../../helpers/offline';

export interface SecureBroker {
  /** PLAINTEXT, for setting up topics in tests */
  plaintext: string;
  /** SSL, server certificate signed by `caFile` */
  tls: string;
  /** SASL_SSL with SCRAM-SHA-512 */
  scram: string;
  /**
   * SASL_SSL with OAUTHBEARER, the mechanism MSK IAM auth uses (MSK port 9098). This broker validates
   * tokens with Kafka's built-in unsecured-JWT validator, as no local broker can check MSK's SigV4 tokens.
   */
  oauth: string;
  /** PEM of the CA that signed the broker certificate */
  caFile: string;
  /** a SCRAM user that exists on the broker */
  user: { username: string; password: string };
  stop(): Promise<void>;
}

function run(command: string, args: string[], cwd: string): void {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`);
  }
}

/** A CA and a broker certificate for 127.0.0.1/localhost, the keystore as PKCS#12 (Java reads it as is). */
function makeCertificates(dir: string, password: string): { caFile: string; keystore: string } {
  run(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=test-ca'].concat([
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
    ]),
    dir,
  );
  run(
    'openssl',
    ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'broker.key', '-out', 'broker.csr'],
    dir,
  );
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  run(
    'openssl',
    ['x509', '-req', '-in', 'broker.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial'].concat([
      '-days',
      '2',
      '-extfile',
      'san.ext',
      '-out',
      'broker.pem',
    ]),
    dir,
  );
  run(
    'openssl',
    ['pkcs12', '-export', '-in', 'broker.pem', '-inkey', 'broker.key', '-certfile', 'ca.pem'].concat([
      '-name',
      'broker',
      '-out',
      'broker.p12',
      '-passout',
      `pass:${password}`,
    ]),
    dir,
  );
  return { caFile: join(dir, 'ca.pem'), keystore: join(dir, 'broker.p12') };
}

/** Start the private broker; resolves when all its listeners accept connections. */
export async function startSecureBroker(): Promise<SecureBroker> {
  if (!existsSync(join(paths.LIBS_DIR, '.complete'))) {
    throw new Error(`the Kafka jars are not cached in ${paths.LIBS_DIR}: run \`npm run broker -- up\` once (jar mode)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'kafka-auth-test-'));
  const password = 'test-keystore-pass';
  const user = { username: 'alice', password: 'alice-scram-secret' };
  const { caFile, keystore } = makeCertificates(dir, password);
  const [plain, tls, scram, oauth, controller] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const host = '127.0.0.1';
  const properties = join(dir, 'server.properties');
  writeFileSync(
    properties,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@${host}:${controller}`,
      `listeners=INTERNAL://${host}:${plain},TLS://${host}:${tls},SCRAM://${host}:${scram},OAUTH://${host}:${oauth},CONTROLLER://${host}:${controller}`,
      `advertised.listeners=INTERNAL://${host}:${plain},TLS://${host}:${tls},SCRAM://${host}:${scram},OAUTH://${host}:${oauth}`,
      'listener.security.protocol.map=CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT,TLS:SSL,SCRAM:SASL_SSL,OAUTH:SASL_SSL',
      'inter.broker.listener.name=INTERNAL',
      'controller.listener.names=CONTROLLER',
      'listener.name.scram.sasl.enabled.mechanisms=SCRAM-SHA-512',
      'listener.name.scram.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
      'listener.name.oauth.sasl.enabled.mechanisms=OAUTHBEARER',
      'listener.name.oauth.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;',
      `ssl.keystore.location=${keystore}`,
      'ssl.keystore.type=PKCS12',
      `ssl.keystore.password=${password}`,
      `ssl.key.password=${password}`,
      'ssl.client.auth=none',
      ...singleNodeProperties(join(dir, 'data')),
      '',
    ].join('\n'),
  );
  const classpath = `${paths.LIBS_DIR}/*`;
  // the SCRAM user is written into the cluster metadata at format time, as MSK's secret association does
  run(
    'java',
    ['-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', 'kAuthTestCluster000001A', '-c', properties].concat([
      '--add-scram',
      `SCRAM-SHA-512=[name=${user.username},password=${user.password}]`,
    ]),
    dir,
  );
  const logFile = join(dir, 'broker.log');
  const child: ChildProcess = spawn(
    'java',
    ['-Xms256m', '-Xmx256m', `-Dlog4j2.configurationFile=${join(paths.ROOT, 'broker', 'log4j2.properties')}`].concat([
      '-cp',
      classpath,
      'kafka.Kafka',
      properties,
    ]),
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  let exited = false;
  const exit = new Promise<void>((done) => child.once('exit', () => ((exited = true), done())));

  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exit;
      clearTimeout(timer);
    }
    writeFileSync(logFile, log);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`the test broker exited:\n${log.slice(-3000)}`);
        for (const port of [plain, tls, scram, oauth]) if (!(await isReachable(host, port))) return false;
        return true;
      },
      { timeoutMs: 120_000, intervalMs: 250, what: 'the auth test broker to accept connections' },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    plaintext: `${host}:${plain}`,
    tls: `${host}:${tls}`,
    scram: `${host}:${scram}`,
    oauth: `${host}:${oauth}`,
    caFile,
    user,
    stop,
  };
}
