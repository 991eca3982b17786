import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { BROKERS } from './kafka';

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

export interface OfflineProcess {
  /** http://127.0.0.1:<port> */
  url: string;
  pid: number;
  /** everything the process printed so far (stdout and stderr) */
  output(): string;
  /** wait until the output matches `pattern` (searching from `fromIndex` of the output, default 0) */
  waitForOutput(pattern: RegExp, timeoutMs?: number, fromIndex?: number): Promise<RegExpMatchArray>;
  /** SIGINT (what Ctrl-C sends), then wait for the process to exit; SIGKILL after `graceMs` */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGKILL, no clean-up: the crash case */
  kill(): Promise<void>;
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
  const nodeArgs = (process.env.OFFLINE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, ...args], {
    cwd: options.cwd,
    env: { ...process.env, KAFKA_BROKERS: BROKERS.join(','), LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    text += chunk.toString();
    listeners.forEach((l) => l());
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((r) =>
    child.once('exit', (code) => {
      exitCode = code;
      listeners.forEach((l) => l());
      r(code);
    }),
  );

  const waitForOutput = (pattern: RegExp, timeoutMs = 60_000, fromIndex = 0) =>
    new Promise<RegExpMatchArray>((done, fail) => {
      const check = () => {
        const match = text.slice(fromIndex).match(pattern);
        if (match) return finish(() => done(match));
        if (exitCode !== undefined) {
          finish(() => fail(new Error(`serverless offline exited (${exitCode}) before printing ${pattern}:\n${text}`)));
        }
      };
      const timer = setTimeout(
        () =>
          finish(() => fail(new Error(`serverless offline did not print ${pattern} within ${timeoutMs} ms:\n${text}`))),
        timeoutMs,
      );
      const finish = (then: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        then();
      };
      listeners.add(check);
      check();
    });

  const stop = async (graceMs = 15_000) => {
    if (exitCode !== undefined) return exitCode;
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };

  const handle: OfflineProcess = {
    url: `http://127.0.0.1:${httpPort}`,
    pid: child.pid!,
    output: () => text,
    waitForOutput,
    stop,
    kill: async () => {
      if (exitCode === undefined) child.kill('SIGKILL');
      await exited;
    },
  };
  try {
    await waitForOutput(/Server ready/, options.timeoutMs ?? 60_000);
    if (options.readyPattern) await waitForOutput(options.readyPattern, options.timeoutMs ?? 60_000);
  } catch (error) {
    await handle.kill();
    throw error;
  }
  return handle;
}
