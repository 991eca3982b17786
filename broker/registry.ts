/**
 * A Confluent-compatible schema registry for local runs and tests: franz-go's srfake (an in-memory server
 * of the Confluent Schema Registry REST API) behind the few lines of Go in registry/, built with the Go
 * toolchain into .cache/registry from the pinned module in registry/go.mod (rebuilt when those files
 * change). It listens on 127.0.0.1 only, keeps its schemas in memory, and is stopped by its pid.
 * `npm run registry -- up` runs it on 127.0.0.1:8081 until `npm run registry -- down`; on a machine with
 * Docker and no Go, Confluent's own Schema Registry from docker-compose.yml instead.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BrokerError,
  commandWorks,
  composeUp,
  isOurProcess,
  isReachable,
  paths,
  startLocalServer,
  stateFile,
} from './broker';

const SOURCE_DIR = join(paths.ROOT, 'registry');
const STATE_DIR = join(paths.ROOT, '.cache', 'registry');
const BINARY = join(STATE_DIR, 'schema-registry');
const BUILT = join(STATE_DIR, 'built-from');
const STATE_FILE = join(STATE_DIR, 'state.json');
/** The port of `npm run registry -- up`: Confluent Schema Registry's own. */
export const REGISTRY_PORT = 8081;

export interface Registry {
  pid: number;
  /** http://127.0.0.1:<port> */
  url: string;
  stop(): Promise<void>;
}

/** What the binary is built from: a new Go source or module version means a new build. */
function sourceHash(): string {
  const hash = createHash('sha256');
  for (const file of ['main.go', 'go.mod', 'go.sum']) hash.update(readFileSync(join(SOURCE_DIR, file)));
  return hash.digest('hex');
}

/** Build the registry unless the binary is there and built from the current sources (needs Go). */
export function ensureRegistry(say: (line: string) => void): string {
  const hash = sourceHash();
  if (existsSync(BINARY) && existsSync(BUILT) && readFileSync(BUILT, 'utf8') === hash) return BINARY;
  mkdirSync(STATE_DIR, { recursive: true });
  say('building the schema registry (franz-go srfake) with Go into .cache/registry');
  const build = spawnSync('go', ['build', '-o', BINARY, '.'], { cwd: SOURCE_DIR, encoding: 'utf8' });
  if (build.error) {
    throw new BrokerError(
      `cannot run go (${build.error.message}) to build the local schema registry: install Go 1.24 or newer, ` +
        `or run Confluent's (docker compose --profile registry up -d schema-registry), or set SCHEMA_REGISTRY_URL to yours`,
    );
  }
  if (build.status !== 0) throw new BrokerError(`go build of registry/ failed:\n${build.stdout}${build.stderr}`);
  writeFileSync(BUILT, hash);
  return BINARY;
}

/**
 * Start the registry on 127.0.0.1:`port` (built first if needed); resolves once it accepts connections.
 * With `basicAuth` ("user:password") it answers only requests that carry those credentials.
 */
export async function startRegistry(options: {
  port: number;
  basicAuth?: string;
  detached?: boolean;
  say?: (line: string) => void;
}): Promise<Registry> {
  const binary = ensureRegistry(options.say ?? (() => undefined));
  const args = ['-addr', `127.0.0.1:${options.port}`, ...(options.basicAuth ? ['-basic-auth', options.basicAuth] : [])];
  const server = await startLocalServer({
    name: 'the schema registry',
    command: binary,
    args,
    port: options.port,
    detached: options.detached,
  });
  return { ...server, url: `http://127.0.0.1:${options.port}` };
}

/** Is `pid` the registry binary of this project (not another process that got its pid)? */
const isOurRegistry = (pid: number | undefined): boolean => isOurProcess(pid, [BINARY]);

/** What `upRegistry` started: our binary (its pid), or Confluent's in Docker Compose. */
type RegistryState = { pid?: number; mode?: 'docker'; startedAt?: string };

const registryState = stateFile<RegistryState>(STATE_FILE);
const writeState = (state: RegistryState): void =>
  registryState.write({ ...state, startedAt: new Date().toISOString() });

/** Go builds our registry; a machine with Docker and no Go runs Confluent's (docker-compose.yml, profile registry). */
const dockerInsteadOfGo = (): boolean =>
  !commandWorks('go', ['version']) &&
  commandWorks('docker', ['info'], 15_000) &&
  commandWorks('docker', ['compose', 'version']);

/**
 * `npm run registry -- up` (and `npm start`, `npm test`): the registry on 127.0.0.1:8081, unless the one
 * started earlier still runs or another registry (Docker's, for one) already listens there. `started`:
 * this call started it, so the caller that wants a clean machine stops it with `downRegistry`.
 */
export async function upRegistry(say: (line: string) => void): Promise<{ url: string; started: boolean }> {
  const url = `http://127.0.0.1:${REGISTRY_PORT}`;
  const { pid } = registryState.read() ?? {};
  if (isOurRegistry(pid)) {
    say(`the schema registry is already running at ${url} (pid ${pid})`);
    return { url, started: false };
  }
  if (await isReachable('127.0.0.1', REGISTRY_PORT, 300)) {
    say(`using the schema registry already listening at ${url} (not started by this project)`);
    return { url, started: false };
  }
  mkdirSync(STATE_DIR, { recursive: true });
  if (dockerInsteadOfGo()) {
    say("no Go here: starting Confluent's Schema Registry with Docker Compose (profile registry)");
    composeUp('schema-registry', process.env, 'registry');
    writeState({ mode: 'docker' });
    say(`schema registry (Confluent, Docker) at ${url}`);
    return { url, started: true };
  }
  const registry = await startRegistry({ port: REGISTRY_PORT, detached: true, say });
  writeState({ pid: registry.pid });
  say(`schema registry (Confluent REST API, in memory) at ${url} (pid ${registry.pid})`);
  return { url, started: true };
}

/** `npm run registry -- down`: stop the registry `up` started, if it runs. */
export async function downRegistry(say: (line: string) => void): Promise<void> {
  const { pid, mode } = registryState.read() ?? {};
  registryState.clear();
  if (mode === 'docker') {
    spawnSync('docker', ['compose', '--profile', 'registry', 'rm', '--stop', '--force', 'schema-registry'], {
      cwd: paths.ROOT,
      stdio: 'inherit',
    });
    say('stopped the Docker Compose schema registry');
    return;
  }
  if (!isOurRegistry(pid)) {
    say('nothing to stop: no schema registry was started by npm run registry -- up');
    return;
  }
  process.kill(pid!, 'SIGTERM');
  say(`stopped the schema registry (pid ${pid})`);
}
