/**
 * A secured Apache Kafka broker that speaks what Amazon MSK speaks: TLS (MSK's port 9094), SASL_SSL with
 * SCRAM-SHA-512 (9096) and SASL_SSL with OAUTHBEARER (9098, the mechanism of MSK IAM; this broker checks
 * tokens with Kafka's unsecured-JWT validator, as no local broker can check MSK's SigV4 tokens), plus a
 * plaintext listener for setting up topics. Its certificate is signed by a CA made with openssl at every
 * start: no private key is committed anywhere. The SCRAM user is written into the cluster metadata when
 * the storage is formatted, as MSK's secret association does.
 *
 * One implementation for two uses: `npm run broker -- up --secure` runs it for users (in
 * .cache/broker-secure, on fixed ports, until `npm run broker -- down --secure`), and the tests start
 * their own (a temporary folder, free ports). Stopped by its pid, never by name.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BrokerError,
  chooseMode,
  composeUp,
  ensureJars,
  isOurJavaBroker,
  isReachable,
  paths,
  runChecked,
  singleNodeProperties,
  startKafkaProcess,
  stateFile,
  stopJavaBroker,
} from './broker';
import { certificateFiles, makeCertificates, type ClientCertificate } from './certificates';

export interface SecurePorts {
  plaintext: number;
  tls: number;
  scram: number;
  oauth: number;
  /** SSL with a client certificate required (mutual TLS) */
  mtls: number;
  controller: number;
}

export interface ScramUser {
  username: string;
  password: string;
}

export interface SecureBroker {
  pid: number;
  /** PLAINTEXT, for setting up topics */
  plaintext: string;
  /** SSL, server certificate signed by `caFile` */
  tls: string;
  /** SASL_SSL with SCRAM-SHA-512 */
  scram: string;
  /** SASL_SSL with OAUTHBEARER (unsecured JWTs) */
  oauth: string;
  /** SSL requiring a client certificate signed by `caFile`'s CA (mutual TLS) */
  mtls: string;
  /** PEM of the CA that signed the broker's certificate, and the client certificate */
  caFile: string;
  /** a client certificate for `mtls` and its key (PKCS#8 PEM, unencrypted) */
  clientCertificate: ClientCertificate;
  /** a SCRAM-SHA-512 user that exists on the broker */
  user: ScramUser;
  /** client settings for Kafka's own tools over SASL_SSL (`--command-config`, `--consumer.config`, …) */
  clientProperties: string;
  logFile: string;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
/** Fixed ports of `npm run broker -- up --secure`: MSK's for TLS, SCRAM and IAM; the plain broker keeps 9092-9093. */
export const SECURE_PORTS: SecurePorts = {
  plaintext: 9095,
  tls: 9094,
  scram: 9096,
  oauth: 9098,
  mtls: 9099,
  controller: 9097,
};
/** The SCRAM user of `npm run broker -- up --secure`: a local broker's, known to anyone who reads this file. */
export const SECURE_USER: ScramUser = { username: 'local', password: 'local-scram-secret' };
export const SECURE_CLUSTER_ID = 'kSrvLsSecureBroker0001A';
/** Where docker-compose.yml's kafka-secure service sees .cache/broker-secure, and keeps its data (gone with the container). */
export const CONTAINER_DIR = '/secure';
export const CONTAINER_DATA_DIR = '/tmp/kafka-secure-data';
const STATE_DIR = join(paths.ROOT, '.cache', 'broker-secure');
const STATE_FILE = join(STATE_DIR, 'state.json');

/** The secured broker's server.properties. */
export function secureServerProperties(
  ports: SecurePorts,
  keystore: string,
  password: string,
  dataDir: string,
  caFile: string,
): string {
  const listener = (name: string, port: number) => `${name}://${HOST}:${port}`;
  const advertised = [
    listener('INTERNAL', ports.plaintext),
    listener('TLS', ports.tls),
    listener('SCRAM', ports.scram),
    listener('OAUTH', ports.oauth),
    listener('MTLS', ports.mtls),
  ];
  return [
    '# written by broker/secure.ts',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@${HOST}:${ports.controller}`,
    `listeners=${[...advertised, listener('CONTROLLER', ports.controller)].join(',')}`,
    `advertised.listeners=${advertised.join(',')}`,
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT,TLS:SSL,SCRAM:SASL_SSL,OAUTH:SASL_SSL,MTLS:SSL',
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
    // mutual TLS: a client certificate signed by the local CA is required
    'listener.name.mtls.ssl.client.auth=required',
    'listener.name.mtls.ssl.truststore.type=PEM',
    `listener.name.mtls.ssl.truststore.location=${caFile}`,
    ...singleNodeProperties(dataDir),
    '',
  ].join('\n');
}

/** Client settings for Kafka's own tools: SASL_SSL with SCRAM-SHA-512, trusting the CA's PEM. */
function clientPropertiesText(user: ScramUser, caFile: string): string {
  return [
    'security.protocol=SASL_SSL',
    'sasl.mechanism=SCRAM-SHA-512',
    `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${user.username}" password="${user.password}";`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${caFile}`,
    '',
  ].join('\n');
}

const KEYSTORE_PASSWORD = 'local-keystore-pass';

/**
 * Write what a secured broker in `dir` runs with: new certificates (./certificates), its
 * server.properties and the client.properties for Kafka's own tools. The jar broker and the Docker
 * Compose one (server.docker.properties, the same settings with the container's paths) read them.
 */
export function prepareSecureFiles(dir: string, ports: SecurePorts, user: ScramUser) {
  mkdirSync(dir, { recursive: true });
  const { caFile, keystore, clientCertificate } = makeCertificates(dir, KEYSTORE_PASSWORD);
  // openssl writes it for its owner only; the kafka-secure container reads it as its own user (a local
  // broker's keystore, whose password is in this file)
  chmodSync(keystore, 0o644);
  const dataDir = join(dir, 'data');
  const properties = join(dir, 'server.properties');
  writeFileSync(properties, secureServerProperties(ports, keystore, KEYSTORE_PASSWORD, dataDir, caFile));
  const inContainer = certificateFiles(CONTAINER_DIR);
  writeFileSync(
    join(dir, 'server.docker.properties'),
    secureServerProperties(ports, inContainer.keystore, KEYSTORE_PASSWORD, CONTAINER_DATA_DIR, inContainer.caFile),
  );
  const clientProperties = join(dir, 'client.properties');
  writeFileSync(clientProperties, clientPropertiesText(user, caFile));
  return { caFile, clientCertificate, properties, clientProperties, dataDir };
}

/**
 * Start a secured broker in `dir` (its certificates, properties, data and log), listening on `ports`;
 * resolves once every listener accepts connections. Storage already formatted in `dir` is kept (topics
 * and offsets survive a restart); the certificates are new at every start.
 */
export async function startSecureBroker(options: {
  dir: string;
  ports: SecurePorts;
  user: ScramUser;
  /** leave it running after this process exits (`npm run broker -- up --secure`) */
  detached?: boolean;
}): Promise<SecureBroker> {
  const { dir, ports, user } = options;
  if (!existsSync(join(paths.LIBS_DIR, '.complete'))) await ensureJars();
  const { caFile, clientCertificate, properties, clientProperties, dataDir } = prepareSecureFiles(dir, ports, user);
  const classpath = `${paths.LIBS_DIR}/*`;
  if (!existsSync(join(dataDir, 'meta.properties'))) {
    const scram = `SCRAM-SHA-512=[name=${user.username},password=${user.password}]`;
    runChecked(
      'java',
      [
        '-cp',
        classpath,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        SECURE_CLUSTER_ID,
        '-c',
        properties,
        '--add-scram',
        scram,
      ],
      dir,
    );
  }
  const logFile = join(dir, 'broker.log');
  const pid = await startKafkaProcess({
    properties,
    logFile,
    cwd: dir,
    heap: '256m',
    detached: options.detached ?? false,
    host: HOST,
    listeners: [ports.plaintext, ports.tls, ports.scram, ports.oauth, ports.mtls],
    timeoutMs: 120_000,
  });
  const stop = () => stopJavaBroker(pid, dir);
  const at = (port: number) => `${HOST}:${port}`;
  return {
    pid,
    plaintext: at(ports.plaintext),
    tls: at(ports.tls),
    scram: at(ports.scram),
    oauth: at(ports.oauth),
    mtls: at(ports.mtls),
    caFile,
    clientCertificate,
    user,
    clientProperties,
    logFile,
    stop,
  };
}

/** The CA of the broker `up --secure` runs (new at every start). */
export const secureCaFile = (): string => certificateFiles(STATE_DIR).caFile;

interface SecureState {
  /** how it runs: a java process of ours (`pid`), or docker-compose.yml's kafka-secure service */
  mode: 'jar' | 'docker';
  pid?: number;
  startedAt: string;
}

const secureState = stateFile<SecureState>(STATE_FILE);

/** How to reach the broker `up --secure` runs, as printed for the user. */
export function describeSecureBroker(
  b: Pick<
    SecureBroker,
    'scram' | 'tls' | 'mtls' | 'plaintext' | 'caFile' | 'clientCertificate' | 'user' | 'clientProperties'
  >,
): string {
  return [
    `SASL_SSL (SCRAM-SHA-512) at ${b.scram}, user ${b.user.username}, password ${b.user.password}`,
    `TLS only at ${b.tls}; plaintext (to set up topics) at ${b.plaintext}`,
    `mutual TLS at ${b.mtls}, with the client certificate ${b.clientCertificate.certFile} and its key ${b.clientCertificate.keyFile}`,
    `the CA that signed its certificate and the client's: ${b.caFile} (new at every start)`,
    `Kafka's own tools: KAFKA_BROKERS=${b.scram} npm run kafka -- topics --list --command-config ${b.clientProperties}`,
    '  (console-consumer: --consumer.config, console-producer: --producer.config, the same file)',
  ].join('\n');
}

/** The docker-compose.yml service of the secured broker (profile `secure`). */
const COMPOSE_SERVICE = 'kafka-secure';

/** Is the secured broker `up --secure` started still there? */
async function stillRunning(state: SecureState | undefined): Promise<boolean> {
  if (state?.mode === 'docker') return isReachable(HOST, SECURE_PORTS.plaintext, 500);
  return isOurJavaBroker(state?.pid, STATE_DIR);
}

/**
 * `npm run broker -- up --secure`: start the secured broker unless the one started earlier still runs —
 * with Docker Compose when its engine runs (the kafka-secure service, reading the files written here),
 * else from the jars. True when this call started it.
 */
export async function upSecure(say: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const state = secureState.read();
  const description = {
    scram: `${HOST}:${SECURE_PORTS.scram}`,
    tls: `${HOST}:${SECURE_PORTS.tls}`,
    mtls: `${HOST}:${SECURE_PORTS.mtls}`,
    plaintext: `${HOST}:${SECURE_PORTS.plaintext}`,
    caFile: secureCaFile(),
    clientCertificate: certificateFiles(STATE_DIR).clientCertificate,
    user: SECURE_USER,
    clientProperties: join(STATE_DIR, 'client.properties'),
  };
  if (await stillRunning(state)) {
    const how = state!.mode === 'docker' ? 'Docker Compose' : `pid ${state!.pid}`;
    say(`the secured broker is already running (${how})\n${describeSecureBroker(description)}`);
    return false;
  }
  const taken = await Promise.all(Object.values(SECURE_PORTS).map((port) => isReachable(HOST, port, 300)));
  if (taken.some(Boolean)) {
    const ports = Object.values(SECURE_PORTS).filter((_, i) => taken[i]);
    throw new BrokerError(
      `ports ${ports.join(', ')} on ${HOST} are taken by another process: the secured broker needs ${Object.values(SECURE_PORTS).join(', ')}`,
    );
  }
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  if (chooseMode(env) === 'docker') {
    say(
      `starting a secured Apache Kafka broker with Docker Compose (service ${COMPOSE_SERVICE}, files in ${STATE_DIR})`,
    );
    prepareSecureFiles(STATE_DIR, SECURE_PORTS, SECURE_USER);
    composeUp(COMPOSE_SERVICE, env, 'secure');
    secureState.write({ mode: 'docker', startedAt: new Date().toISOString() });
    say(`ready in ${elapsed()}\n${describeSecureBroker(description)}`);
    return true;
  }
  say(`starting a secured Apache Kafka broker from jars in ${STATE_DIR}`);
  const broker = await startSecureBroker({ dir: STATE_DIR, ports: SECURE_PORTS, user: SECURE_USER, detached: true });
  const record: SecureState = { mode: 'jar', pid: broker.pid, startedAt: new Date().toISOString() };
  secureState.write(record);
  say(`ready in ${elapsed()} (pid ${broker.pid})\n${describeSecureBroker(broker)}`);
  return true;
}

/** `npm run broker -- down --secure`: stop the secured broker `up --secure` started, if it runs. */
export async function downSecure(say: (line: string) => void): Promise<boolean> {
  const state = secureState.read();
  secureState.clear();
  if (state?.mode === 'docker') {
    say(`stopping the secured broker (Docker Compose service ${COMPOSE_SERVICE})`);
    spawnSync('docker', ['compose', '--profile', 'secure', 'rm', '--stop', '--force', COMPOSE_SERVICE], {
      cwd: paths.ROOT,
      stdio: 'inherit',
    });
    return true;
  }
  if (!isOurJavaBroker(state?.pid, STATE_DIR)) {
    say('nothing to stop: no secured broker was started by npm run broker -- up --secure');
    return false;
  }
  say(`stopping the secured broker (pid ${state!.pid})`);
  await stopJavaBroker(state!.pid!, STATE_DIR, say);
  return true;
}
