import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLUSTER_ID, isReachable, paths, serverProperties } from '../../../broker/broker';
import { freePort } from '../../helpers/offline';
import { waitFor } from '../../helpers/kafka';

/**
 * A second, throw-away Kafka broker (same jars as `npm run broker`, its own data folder and free ports),
 * for tests that stop and restart a broker. The shared broker at 127.0.0.1:9092 is never touched; this
 * one is stopped by its own pid.
 */
export interface SecondBroker {
  address: string;
  /** SIGTERM (Kafka shuts down cleanly), or SIGKILL (a crash), and wait for the process to exit */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** start again on the same ports and data: topics and records survive, like a broker restart */
  start(): Promise<void>;
  /** stop and delete its data folder */
  destroy(): Promise<void>;
}

export function jarsAvailable(): boolean {
  return existsSync(join(paths.LIBS_DIR, '.complete'));
}

export async function startSecondBroker(): Promise<SecondBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'rr-second-broker-'));
  const port = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === port) controllerPort = await freePort();
  const properties = join(dir, 'server.properties');
  writeFileSync(properties, serverProperties('127.0.0.1', port, { controllerPort, dataDir: join(dir, 'data') }));
  const classpath = `${paths.LIBS_DIR}/*`;
  const format = spawnSync(
    'java',
    ['-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', CLUSTER_ID, '-c', properties],
    { encoding: 'utf8' },
  );
  if (format.status !== 0) throw new Error(`formatting the second broker failed:\n${format.stdout}${format.stderr}`);

  const logFile = join(dir, 'broker.log');
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async () => {
    const fd = openSync(logFile, 'a');
    const proc = spawn(
      'java',
      [
        '-Xms256m',
        '-Xmx256m',
        '-XX:+UseSerialGC',
        `-Dlog4j2.configurationFile=${join(paths.ROOT, 'broker', 'log4j2.properties')}`,
        '-cp',
        classpath,
        'kafka.Kafka',
        properties,
      ],
      { stdio: ['ignore', fd, fd] },
    );
    closeSync(fd);
    child = proc;
    let gone = false;
    exited = new Promise((resolve) => proc.once('exit', () => ((gone = true), resolve())));
    await waitFor(
      async () => {
        if (gone) throw new Error(`the second broker exited:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
        return isReachable('127.0.0.1', port, 500);
      },
      { timeoutMs: 90_000, intervalMs: 250, what: `the second broker on 127.0.0.1:${port}` },
    );
  };

  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
    if (!child || child.exitCode !== null) return;
    const proc = child;
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  return {
    address: `127.0.0.1:${port}`,
    stop,
    start,
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
