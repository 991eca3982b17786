/**
 * moto in server mode: AWS APIs (here Secrets Manager and the Glue Schema Registry) emulated by one local
 * process, installed into .cache/moto by scripts/install-moto.sh (pinned). It listens on 127.0.0.1 only and
 * is stopped by its pid. The AWS SDK reaches it through `AWS_ENDPOINT_URL_SECRETS_MANAGER` and
 * `AWS_ENDPOINT_URL_GLUE` (see `motoEnv`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BrokerError, paths, startLocalServer } from './broker';

export const MOTO_SERVER = join(paths.ROOT, '.cache', 'moto', 'bin', 'moto_server');

export interface Moto {
  pid: number;
  /** http://127.0.0.1:<port> */
  endpoint: string;
  stop(): Promise<void>;
}

/** The environment an AWS SDK client needs to talk to moto instead of AWS (moto accepts any credentials). */
export function motoEnv(moto: Pick<Moto, 'endpoint'>, region = 'eu-west-1'): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.endpoint,
    AWS_ENDPOINT_URL_GLUE: moto.endpoint,
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: 'moto',
    AWS_SECRET_ACCESS_KEY: 'moto',
  };
}

/** What an AWS SDK client built in this process needs to talk to moto: its endpoint, a region, any credentials. */
export function motoClientConfig(moto: Pick<Moto, 'endpoint'>, region = 'eu-west-1') {
  const env = motoEnv(moto, region);
  return {
    region: env.AWS_REGION,
    endpoint: moto.endpoint,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
  };
}

/** Install the pinned moto into .cache/moto unless it is there (scripts/install-moto.sh; Python 3 with venv). */
export function ensureMoto(say: (line: string) => void): void {
  if (existsSync(MOTO_SERVER)) return;
  say('installing moto (Secrets Manager emulator) from PyPI into .cache/moto (first run only)');
  const install = spawnSync('bash', [join(paths.ROOT, 'scripts', 'install-moto.sh')], { encoding: 'utf8' });
  if (install.status !== 0) throw new BrokerError(`installing moto failed:\n${install.stdout}${install.stderr}`);
}

/** Start moto_server on 127.0.0.1:`port`; resolves once it accepts connections (`detached`: it outlives us). */
export async function startMoto(port: number, detached = false): Promise<Moto> {
  if (!existsSync(MOTO_SERVER)) throw new BrokerError('moto is not installed: run scripts/install-moto.sh');
  const server = await startLocalServer({
    name: 'moto',
    command: MOTO_SERVER,
    args: ['-H', '127.0.0.1', '-p', String(port)],
    port,
    detached,
  });
  return { ...server, endpoint: `http://127.0.0.1:${port}` };
}
