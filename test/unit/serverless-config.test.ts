import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { TOPICS } from '../../lib/kafka/topics';

const ROOT = resolve(__dirname, '..', '..');

interface PrintedService {
  provider: { runtime: string };
  functions: Record<string, { handler: string; events?: Record<string, { topic?: string }>[] }>;
}

/** The service as the framework resolves it (variables and all), read once. */
const service: PrintedService = JSON.parse(
  execFileSync(
    process.execPath,
    [resolve(ROOT, 'node_modules/serverless/bin/serverless.js'), 'print', '--format', 'json'],
    {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1' },
    },
  ),
);

describe('serverless.yml', () => {
  it('runs every function on nodejs22.x', () => {
    expect(service.provider.runtime).toBe('nodejs22.x');
  });

  it('declares in lib/kafka/topics.ts every topic a function is triggered by', () => {
    const declared = new Set<string>(TOPICS.map((t) => t.name));
    const used = Object.values(service.functions).flatMap((fn) =>
      (fn.events ?? []).flatMap((event) => [event.msk?.topic, event.kafka?.topic].filter((t): t is string => !!t)),
    );
    expect(used.filter((topic) => !declared.has(topic))).toEqual([]);
  });

  it('points every handler at functions/<name>/handler', () => {
    for (const [name, fn] of Object.entries(service.functions)) {
      expect(fn.handler).toBe(`functions/${name}/handler.handler`);
    }
  });
});
