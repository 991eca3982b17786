/**
 * The local Apache Kafka broker: use one that is already reachable, else start the same broker with
 * Docker Compose, else from Maven Central jars with Java and Maven. `down` stops only what `up` started:
 * what was started is recorded in `.cache/broker/state.json`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createConnection, createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { brokersOf } from './address';

export const KAFKA_VERSION = '4.1.2';
/** Fixed so a data folder formatted once keeps working across restarts (same as docker-compose.yml). */
export const CLUSTER_ID = 'kSrvLsLocalBroker00001A';

const ROOT = resolve(__dirname, '..');
const CACHE = join(ROOT, '.cache');
const STATE_DIR = join(CACHE, 'broker');
const STATE_FILE = join(STATE_DIR, 'state.json');
const LOG_FILE = join(STATE_DIR, 'broker.log');
const DATA_DIR = join(STATE_DIR, 'data');
const LIBS_DIR = join(CACHE, `kafka-${KAFKA_VERSION}`, 'libs');
const LIBS_COMPLETE = join(LIBS_DIR, '.complete');

export type BrokerMode = 'docker' | 'jar';

interface BrokerState {
  mode: BrokerMode;
  address: string;
  pid?: number;
  startedAt: string;
}

export interface UpResult {
  /** true when this call started a broker (and `down` should stop it) */
  started: boolean;
  mode: BrokerMode | 'existing';
  address: string;
}

export class BrokerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BrokerError';
  }
}

type Say = (line: string) => void;
const defaultSay: Say = (line) => process.stderr.write(`[broker] ${line}\n`);

/** The first address of KAFKA_BROKERS (default 127.0.0.1:9092): where the local broker listens. */
export function brokerAddress(env: NodeJS.ProcessEnv = process.env): { host: string; port: number; address: string } {
  const first = brokersOf(env).split(',')[0]!.trim();
  const match = /^(.+):(\d{1,5})$/.exec(first);
  if (!match) throw new BrokerError(`KAFKA_BROKERS must be host:port[,host:port…], got "${env.KAFKA_BROKERS}"`);
  return { host: match[1]!, port: Number(match[2]), address: first };
}

/** A port on 127.0.0.1 that nothing listens on now, for a local server started next (moto). */
export function freePort(): Promise<number> {
  return new Promise<number>((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

/** A Kafka broker accepts connections on its listener only once it is unfenced, so a TCP connect is a readiness test. */
export function isReachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host, port });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/**
 * The record of what an `up` started (the broker, the secured broker, the registries), kept in a JSON file
 * under .cache so `down` stops exactly that. A missing or unreadable file reads as nothing started.
 */
export function stateFile<T>(file: string): { read(): T | undefined; write(state: T): void; clear(): void } {
  return {
    read() {
      try {
        return JSON.parse(readFileSync(file, 'utf8')) as T;
      } catch {
        return undefined;
      }
    },
    write(state) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(state, null, 2));
    },
    clear() {
      rmSync(file, { force: true });
    },
  };
}

const brokerState = stateFile<BrokerState>(STATE_FILE);

/**
 * True when pid is alive AND is a process of this project: its command line holds every one of `marks`
 * (pids get reused). Without /proc (macOS): "the pid exists".
 */
export function isOurProcess(pid: number | undefined, marks: string[]): boolean {
  if (!pid) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return marks.every((mark) => cmdline.includes(mark));
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * True when pid is alive AND is a java Kafka broker this project started with its files in `dir`: the
 * jar broker (`dir` = .cache/broker), the secured one (broker/secure.ts).
 */
export function isOurJavaBroker(pid: number | undefined, dir: string = STATE_DIR): boolean {
  return isOurProcess(pid, ['kafka.Kafka', dir]);
}

/** A local server process started by startLocalServer. */
export interface LocalServer {
  pid: number;
  /** SIGTERM, SIGKILL after 10 s; resolves once it exited */
  stop(): Promise<void>;
}

/**
 * Start a server process (moto, the schema registry) that listens on 127.0.0.1:`port`; resolves once it
 * accepts connections, else stops it and fails with the tail of its stderr. `detached`: it outlives this
 * process (`npm run … up`), stopped later by its pid.
 */
export async function startLocalServer(options: {
  name: string;
  command: string;
  args: string[];
  port: number;
  detached?: boolean;
}): Promise<LocalServer> {
  const { name, port } = options;
  const child = spawn(options.command, options.args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: options.detached ?? false,
  });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  let exited = false;
  const exit = new Promise<void>((done) => child.once('exit', () => ((exited = true), done())));
  const stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exit;
    clearTimeout(timer);
  };
  try {
    await waitReachable('127.0.0.1', port, 30_000, () => !exited);
  } catch (error) {
    await stop();
    throw new BrokerError(`${name} did not start on 127.0.0.1:${port} (${(error as Error).message}):\n${log}`);
  }
  if (options.detached) {
    child.stderr!.destroy();
    child.unref();
  }
  return { pid: child.pid!, stop };
}

/** Stop the java broker `pid` of `dir` cleanly (Kafka shuts down on SIGTERM); SIGKILL after 30 s. */
export async function stopJavaBroker(pid: number, dir: string, say: Say = defaultSay): Promise<void> {
  if (!isOurJavaBroker(pid, dir)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (isOurJavaBroker(pid, dir) && Date.now() < deadline) await sleep(200);
  if (isOurJavaBroker(pid, dir)) {
    say('the broker did not stop within 30 s; killing it');
    process.kill(pid, 'SIGKILL');
  }
}

/** Run a tool to completion; a BrokerError with its output when it cannot run or fails. */
export function runChecked(command: string, args: string[], cwd: string): void {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  if (result.error) throw new BrokerError(`cannot run ${command} (${result.error.message}): install it first`);
  if (result.status !== 0) {
    throw new BrokerError(`${command} ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`);
  }
}

export function commandWorks(command: string, args: string[], timeoutMs = 10_000): boolean {
  const result = spawnSync(command, args, { stdio: 'ignore', timeout: timeoutMs });
  return result.status === 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait until `host:port` accepts connections; fails at once when `stillAlive` says the process is gone. */
export async function waitReachable(
  host: string,
  port: number,
  timeoutMs: number,
  stillAlive: () => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await isReachable(host, port, 500)) return;
    if (!stillAlive()) throw new BrokerError('the broker process exited during start-up');
    await sleep(250);
  }
  throw new BrokerError(`the broker did not accept connections on ${host}:${port} within ${timeoutMs / 1000} s`);
}

/** Start docker-compose.yml's `service` (under `profile`, if it has one) and wait until it is healthy. */
export function composeUp(service: string, env: NodeJS.ProcessEnv, profile?: string): void {
  const select = profile ? ['--profile', profile] : [];
  const result = spawnSync('docker', ['compose', ...select, 'up', '-d', '--wait', service], {
    cwd: ROOT,
    stdio: 'inherit',
    env,
  });
  if (result.status !== 0) throw new BrokerError('docker compose up failed (see its output above)');
}

/** Docker Compose when its engine runs, else the jars (BROKER_MODE=docker|jar decides instead). */
export function chooseMode(env: NodeJS.ProcessEnv): BrokerMode {
  const forced = env.BROKER_MODE;
  if (forced && forced !== 'auto') {
    if (forced !== 'docker' && forced !== 'jar')
      throw new BrokerError(`BROKER_MODE must be auto, docker or jar, got "${forced}"`);
    return forced;
  }
  if (commandWorks('docker', ['info'], 15_000) && commandWorks('docker', ['compose', 'version'])) return 'docker';
  if (commandWorks('java', ['-version']) && commandWorks('mvn', ['-v'])) return 'jar';
  throw new BrokerError(
    'no Kafka broker is reachable and none can be started here.\n' +
      '  Install ONE of:\n' +
      '    - Docker (with the compose plugin) and start its engine, or\n' +
      '    - Java 17+ and Maven 3.6+ (the broker jars are then fetched from Maven Central),\n' +
      '  or point KAFKA_BROKERS at a running broker.',
  );
}

/** Start a broker unless one is reachable at KAFKA_BROKERS. Idempotent. */
export async function up(env: NodeJS.ProcessEnv = process.env, say: Say = defaultSay): Promise<UpResult> {
  const { host, port, address } = brokerAddress(env);
  const state = brokerState.read();
  if (await isReachable(host, port)) {
    if (state && (state.mode === 'docker' || isOurJavaBroker(state.pid))) {
      say(`already running at ${address} (${state.mode}, started by npm run broker -- up)`);
      return { started: false, mode: state.mode, address };
    }
    say(`using the broker already running at ${address} (not started by this project; down leaves it alone)`);
    return { started: false, mode: 'existing', address };
  }
  if (state?.mode === 'jar' && isOurJavaBroker(state.pid)) {
    // started by an earlier `up` that is still coming up (or a broker that hangs): wait, never start twice
    say(`waiting for the jar broker started earlier (pid ${state.pid})`);
    await waitReachable(host, port, 90_000, () => isOurJavaBroker(state.pid));
    return { started: false, mode: 'jar', address };
  }
  if (state) brokerState.clear(); // a stale record: the broker it names is gone

  const mode = chooseMode(env);
  const started = Date.now();
  if (mode === 'docker') {
    say(`starting Apache Kafka ${KAFKA_VERSION} with Docker Compose on ${address}`);
    composeUp('kafka', { ...env, KAFKA_PORT: String(port) });
    brokerState.write({ mode, address, startedAt: new Date().toISOString() });
    await waitReachable(host, port, 60_000, () => true);
  } else {
    await ensureJars(say);
    const pid = await startJarBroker(host, port, say);
    brokerState.write({ mode, address, pid, startedAt: new Date().toISOString() });
  }
  say(`ready at ${address} (${mode}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { started: true, mode, address };
}

/** Stop the broker `up` started, if any. Never touches a broker this project did not start. */
export async function down(env: NodeJS.ProcessEnv = process.env, say: Say = defaultSay): Promise<boolean> {
  const state = brokerState.read();
  if (!state) {
    say('nothing to stop: no broker was started by npm run broker -- up');
    return false;
  }
  if (state.mode === 'docker') {
    say('stopping the Docker Compose broker');
    spawnSync('docker', ['compose', 'down'], { cwd: ROOT, stdio: 'inherit', env });
  } else if (isOurJavaBroker(state.pid)) {
    say(`stopping the jar broker (pid ${state.pid})`);
    await stopJavaBroker(state.pid!, STATE_DIR, say);
  } else {
    say(`the broker recorded as pid ${state.pid} is no longer running`);
  }
  brokerState.clear();
  return true;
}

export async function status(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const { host, port, address } = brokerAddress(env);
  const reachable = await isReachable(host, port);
  const state = brokerState.read();
  const owner = state
    ? `started by this project (${state.mode}${state.pid ? `, pid ${state.pid}` : ''}, since ${state.startedAt})`
    : 'not started by this project';
  return `${address}: ${reachable ? 'reachable' : 'NOT reachable'}; ${owner}`;
}

export function logs(follow: boolean): void {
  const state = brokerState.read();
  if (state?.mode === 'docker') {
    spawnSync('docker', ['compose', 'logs', ...(follow ? ['-f'] : []), 'kafka'], { cwd: ROOT, stdio: 'inherit' });
    return;
  }
  if (!existsSync(LOG_FILE)) throw new BrokerError(`no broker log yet (${LOG_FILE})`);
  spawnSync('tail', ['-n', '200', ...(follow ? ['-f'] : []), LOG_FILE], { stdio: 'inherit' });
}

/** The broker the last `up` started, as recorded (undefined when `up` started none). */
export function startedMode(): BrokerMode | undefined {
  return brokerState.read()?.mode;
}

/**
 * Resolve the broker's runtime classpath (and Kafka's command-line tools) from Maven Central into
 * .cache/ (git-ignored), once per version of broker/pom.xml: the marker file records the pom's digest,
 * so a dependency added later reaches a cache resolved before it. Maven's own transfer lines are
 * summarised into a progress line so a first run does not look stuck.
 */
export async function ensureJars(say: Say = defaultSay): Promise<void> {
  const pom = `pom sha256 ${createHash('sha256')
    .update(readFileSync(join(ROOT, 'broker', 'pom.xml')))
    .digest('hex')}`;
  const marker = existsSync(LIBS_COMPLETE) ? readFileSync(LIBS_COMPLETE, 'utf8') : undefined;
  if (marker?.includes(pom)) return;
  mkdirSync(LIBS_DIR, { recursive: true });
  say(
    `resolving Apache Kafka ${KAFKA_VERSION} jars from Maven Central into ${LIBS_DIR} ` +
      (marker === undefined ? '(first run only)' : '(broker/pom.xml changed)'),
  );
  const started = Date.now();
  const mvn = spawn(
    'mvn',
    ['-B', '-f', join(ROOT, 'broker', 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${LIBS_DIR}`],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let files = 0;
  let kilobytes = 0;
  let lastPrinted = 0;
  const transcript: string[] = [];
  const onLine = (line: string) => {
    transcript.push(line);
    // e.g. "Downloaded from central: https://…/kafka_2.13-4.1.2.jar (6.6 MB at 12 MB/s)"
    const m = /^\[INFO\] Downloaded from [^:]+: \S+ \(([\d.]+) (B|kB|MB)/.exec(line);
    if (!m) return;
    files += 1;
    kilobytes += Number(m[1]) * (m[2] === 'MB' ? 1024 : m[2] === 'kB' ? 1 : 1 / 1024);
    const text = `downloading: ${files} files, ${(kilobytes / 1024).toFixed(1)} MB`;
    if (process.stderr.isTTY) process.stderr.write(`\r[broker] ${text}`);
    else if (Date.now() - lastPrinted > 2000) {
      say(text);
      lastPrinted = Date.now();
    }
  };
  let pending = '';
  const feed = (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    lines.forEach(onLine);
  };
  mvn.stdout.on('data', feed);
  mvn.stderr.on('data', feed);
  const code: number = await new Promise((r) => mvn.on('close', (c) => r(c ?? 1)));
  if (process.stderr.isTTY && files > 0) process.stderr.write('\n');
  if (code !== 0) {
    process.stderr.write(transcript.slice(-30).join('\n') + '\n');
    throw new BrokerError(`Maven could not resolve the Kafka jars (exit ${code}); its last lines are above`);
  }
  writeFileSync(LIBS_COMPLETE, `${new Date().toISOString()}\n${pom}\n`);
  say(
    `jars ready: ${files} files downloaded (${(kilobytes / 1024).toFixed(1)} MB) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

/**
 * The settings every single-node broker of this project shares (the jar broker, and the extra brokers
 * some tests start with other listeners): storage, replication and topic creation.
 */
export function singleNodeProperties(dataDir: string): string[] {
  return [
    `log.dirs=${dataDir}`,
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    // offset commits are written at once instead of waiting up to 5 ms for others to batch with: a
    // local consumer's next fetch waits for its commit, so the default adds ~6 ms to every round trip
    'group.coordinator.append.linger.ms=0',
    'auto.create.topics.enable=false',
  ];
}

/** The jar broker's server.properties: the same settings as docker-compose.yml (a unit test compares them). */
export function serverProperties(
  host: string,
  port: number,
  options: { controllerPort?: number; dataDir?: string } = {},
): string {
  const controllerPort = options.controllerPort ?? port + 1;
  return [
    '# written by broker/broker.ts: the same settings as docker-compose.yml',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@${host}:${controllerPort}`,
    `listeners=PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://${host}:${port}`,
    'inter.broker.listener.name=PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    ...singleNodeProperties(options.dataDir ?? DATA_DIR),
    '',
  ].join('\n');
}

async function startJarBroker(host: string, port: number, say: Say): Promise<number> {
  mkdirSync(STATE_DIR, { recursive: true });
  const propertiesFile = join(STATE_DIR, 'server.properties');
  writeFileSync(propertiesFile, serverProperties(host, port));
  const classpath = `${LIBS_DIR}/*`;

  // Formatting is needed once per data folder; keep the data (topics, committed offsets) across
  // restarts, like a container's volume. A folder formatted for another cluster id is wiped.
  const meta = join(DATA_DIR, 'meta.properties');
  if (!existsSync(meta) || !readFileSync(meta, 'utf8').includes(`cluster.id=${CLUSTER_ID}`)) {
    rmSync(DATA_DIR, { recursive: true, force: true });
    const format = spawnSync(
      'java',
      ['-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', CLUSTER_ID, '-c', propertiesFile],
      { encoding: 'utf8' },
    );
    if (format.status !== 0) {
      throw new BrokerError(`formatting the broker storage failed:\n${format.stdout}${format.stderr}`);
    }
  }

  say(`starting Apache Kafka ${KAFKA_VERSION} from jars on ${host}:${port} (log: ${LOG_FILE})`);
  return startKafkaProcess({
    properties: propertiesFile,
    logFile: LOG_FILE,
    cwd: ROOT,
    heap: '512m',
    detached: true,
    listeners: [port],
    host,
    timeoutMs: 90_000,
  });
}

/**
 * Run `kafka.Kafka` on a server.properties file with the jars of broker/pom.xml, its output appended to
 * `logFile`; resolves with its pid once every listener port accepts connections. One that exits or
 * does not listen in time is stopped, and the error carries the log's last lines.
 */
export async function startKafkaProcess(options: {
  properties: string;
  logFile: string;
  cwd: string;
  heap: string;
  /** keep running after this process exits */
  detached: boolean;
  host: string;
  listeners: number[];
  timeoutMs: number;
}): Promise<number> {
  const { host, logFile } = options;
  const logFd = openSync(logFile, 'a');
  const child = spawn(
    'java',
    [
      `-Xms${options.heap}`,
      `-Xmx${options.heap}`,
      '-XX:+UseG1GC',
      `-Dlog4j2.configurationFile=${join(ROOT, 'broker', 'log4j2.properties')}`,
      '-cp',
      `${LIBS_DIR}/*`,
      'kafka.Kafka',
      options.properties,
    ],
    { cwd: options.cwd, detached: options.detached, stdio: ['ignore', logFd, logFd] },
  );
  closeSync(logFd);
  let exited = false;
  child.once('exit', () => (exited = true));
  if (options.detached) child.unref();
  const deadline = Date.now() + options.timeoutMs;
  try {
    for (const port of options.listeners) {
      await waitReachable(host, port, Math.max(deadline - Date.now(), 1), () => !exited);
    }
  } catch (error) {
    if (!exited) process.kill(child.pid!, 'SIGKILL');
    const tail = readFileSync(logFile, 'utf8').split('\n').slice(-25).join('\n');
    throw new BrokerError(`${(error as Error).message}. Last lines of ${logFile}:\n${tail}`);
  }
  return child.pid!;
}

// exported for tests of the tooling itself
export const paths = { ROOT, STATE_FILE, LOG_FILE, DATA_DIR, LIBS_DIR };
