import { createServer } from 'node:net';
import { BROKERS } from './kafka';
import { startProcess, type TestProcess } from './process';

/** The `serverless` command of osls (or Serverless Framework v3), wherever npm installed it. */
export const SERVERLESS = require.resolve('serverless/bin/serverless.js');

/** A free TCP port on 127.0.0.1, chosen by the OS. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

export interface OfflineProcess extends TestProcess {
  /** http://127.0.0.1:<port> */
  url: string;
}

/**
 * Start `serverless offline start` for the service in `cwd` (or its `config`) on
 * free ports, and wait until it says "Server ready" (and `readyPattern`, when given). The process is
 * stopped by pid, never by name.
 */
export async function startOffline(options: {
  config?: string;
  /** working directory: the service directory of `config` (osls wants the config at its root) */
  cwd: string;
  env?: Record<string, string>;
  readyPattern?: RegExp;
  timeoutMs?: number;
  args?: string[];
  /** the `serverless` entry script to run (default: the one this package's tests resolve) */
  serverless?: string;
  /** node flags for the offline process; its worker threads inherit them (unlike NODE_OPTIONS) */
  nodeArgs?: string[];
}): Promise<OfflineProcess> {
  const [httpPort, lambdaPort, websocketPort] = [await freePort(), await freePort(), await freePort()];
  const args = [
    options.serverless ?? SERVERLESS,
    'offline',
    'start',
    '--httpPort',
    String(httpPort),
    '--lambdaPort',
    String(lambdaPort),
  ];
  args.push('--websocketPort', String(websocketPort));
  if (options.config) args.push('--config', options.config);
  args.push(...(options.args ?? []));
  // OFFLINE_NODE_ARGS: extra node flags for the offline process (e.g. --cpu-prof when profiling a benchmark)
  const nodeArgs = [...(options.nodeArgs ?? []), ...(process.env.OFFLINE_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const proc = startProcess('serverless offline', process.execPath, [...nodeArgs, ...args], {
    cwd: options.cwd,
    env: { ...process.env, KAFKA_BROKERS: BROKERS.join(','), LOG_LEVEL: 'info', ...options.env },
  });
  const handle: OfflineProcess = { ...proc, url: `http://127.0.0.1:${httpPort}` };
  try {
    // a fixture that esbuild cannot bundle never gets ready: say why at once instead of after the timeout
    const ready = handle.waitForOutput(/Server ready/, options.timeoutMs ?? 60_000);
    const buildFailed = handle.waitForOutput(/Build failed with \d+ error/, options.timeoutMs ?? 60_000).then(
      () => {
        throw new Error(`serverless offline could not bundle the functions:\n${handle.output()}`);
      },
      () => new Promise<never>(() => undefined),
    );
    buildFailed.catch(() => undefined); // after start-up, a failed rebuild is the test's own business
    await Promise.race([ready, buildFailed]);
    if (options.readyPattern) await handle.waitForOutput(options.readyPattern, options.timeoutMs ?? 60_000);
  } catch (error) {
    await handle.kill();
    throw error;
  }
  return handle;
}
