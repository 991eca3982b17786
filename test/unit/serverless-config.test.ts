import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { loadConfig } from '../../lib/config';
import { TOPICS } from '../../lib/kafka/topics';

const ROOT = resolve(__dirname, '..', '..');

interface PrintedService {
  provider: { runtime: string; environment: Record<string, string> };
  functions: Record<
    string,
    { handler: string; environment?: Record<string, string>; events?: Record<string, { topic?: string }>[] }
  >;
}

/** The service as the framework resolves it (variables and all) in `env`. */
const print = (env: NodeJS.ProcessEnv): PrintedService =>
  JSON.parse(
    execFileSync(
      process.execPath,
      [resolve(ROOT, 'node_modules/serverless/bin/serverless.js'), 'print', '--format', 'json'],
      { cwd: ROOT, encoding: 'utf8', env: { ...env, SLS_TELEMETRY_DISABLED: '1' } },
    ),
  );
const service = print(process.env);

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

  it("falls back to lib/config.ts's own defaults when the environment sets nothing", () => {
    // the service as a user with a clean shell gets it: none of the configuration's variables set
    const clean = Object.fromEntries(
      Object.entries(process.env).filter(
        ([name]) => !/^(KAFKA_|QUOTE_|REPLY_|PUBLISH_|LOG_LEVEL|MAX_BODY|SCHEMA_REGISTRY_URL)/.test(name),
      ),
    );
    const printed = print(clean);
    // what serverless.yml sets on purpose, not as a fallback: the client id and the responder's allow-list
    const {
      KAFKA_CLIENT_ID,
      REPLY_TOPICS_ALLOWED: _allowed,
      ...fallbacks
    } = Object.assign(
      {},
      printed.provider.environment,
      ...Object.values(printed.functions).map((fn) => fn.environment ?? {}),
    ) as Record<string, string>;
    expect(KAFKA_CLIENT_ID).toBe('kafka-serverless-local');
    // the local broker and schema registry: addresses with no default in lib/config.ts
    expect(fallbacks.KAFKA_BROKERS).toBe('127.0.0.1:9092');
    expect(fallbacks.SCHEMA_REGISTRY_URL).toBe('http://127.0.0.1:8081');
    expect(loadConfig(fallbacks)).toEqual(
      loadConfig({ KAFKA_BROKERS: fallbacks.KAFKA_BROKERS, SCHEMA_REGISTRY_URL: fallbacks.SCHEMA_REGISTRY_URL }),
    );
    expect(Object.keys(fallbacks)).toEqual(
      expect.arrayContaining(['REPLY_TIMEOUT_MS', 'PUBLISH_TIMEOUT_MS', 'QUOTE_REPLY_PARTITION_FORMAT', 'LOG_LEVEL']),
    );
  });
});
