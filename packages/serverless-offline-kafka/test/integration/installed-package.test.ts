import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { consumeRecords, createTopic, deleteTopics, testKafka, uniqueName, waitFor, withAdmin } from '../helpers/kafka';
import { startOffline, type OfflineProcess } from '../helpers/offline';

/**
 * The package as a user gets it: `npm pack`, the tarball installed into a new service in a temporary
 * folder outside this repository (its own package.json with osls as `serverless`, serverless-offline,
 * serverless-esbuild, a TypeScript handler), nothing resolved from this repository. Then
 * `serverless offline start` there consumes a topic like AWS does, and `serverless package` writes the
 * plugin's settings into the template.
 */
const PACKAGE_DIR = resolve(__dirname, '..', '..');
const RESILIENCE_DIR = dirname(require.resolve('kafkajs-resilience/package.json'));
const pkg = JSON.parse(readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  devDependencies: Record<string, string>;
};

function run(command: string, args: string[], cwd: string, timeoutMs: number): string {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', npm_config_update_notifier: 'false' },
  });
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}):\n${output}`);
  return output;
}

const SERVERLESS_YML = `service: installed-kafka
provider:
  name: aws
  runtime: nodejs22.x
  stage: local
  region: eu-west-1
  environment:
    REPORT_FILE: \${env:REPORT_FILE, '/tmp/unused'}

plugins:
  - serverless-esbuild
  - serverless-offline
  - serverless-offline-kafka

custom:
  esbuild: { bundle: true, target: node20, platform: node, format: cjs }
  serverless-offline: { host: 127.0.0.1, noPrependStageInUrl: true }

functions:
  ping:
    handler: handler.ping
    events:
      - httpApi: { method: GET, path: /ping }
  worker:
    handler: handler.handler
    events:
      - msk:
          arn: arn:aws:kafka:eu-west-1:123456789012:cluster/demo/11111111-2222-3333-4444-555555555555-1
          topic: \${env:TOPIC, 'orders'}
          consumerGroupId: \${env:GROUP, 'workers'}
          startingPosition: TRIM_HORIZON
          batchSize: 10
          maximumBatchingWindow: 0
          maximumRetryAttempts: 2
          functionResponseType: ReportBatchItemFailures
`;

const HANDLER_TS = `import { appendFileSync } from 'node:fs';
import type { MSKEvent } from 'aws-lambda';

export const handler = async (event: MSKEvent): Promise<{ batchItemFailures: { itemIdentifier: string }[] }> => {
  appendFileSync(process.env.REPORT_FILE!, JSON.stringify(event) + '\\n');
  return { batchItemFailures: [] };
};

export const ping = async () => ({ statusCode: 200, body: 'pong' });
`;

interface DeliveredEvent {
  eventSource: string;
  eventSourceArn?: string;
  bootstrapServers: string;
  records: Record<
    string,
    { partition: number; offset: unknown; value: string; timestampType: string; headers: unknown; key?: unknown }[]
  >;
}

describe('serverless-offline-kafka installed from its npm tarball into a new service', () => {
  const topic = uniqueName('installed');
  const group = uniqueName('installed-group');
  let service: string;
  let offline: OfflineProcess | undefined;

  beforeAll(async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'offline-kafka-user-'));
    const packed = join(scratch, 'packed');
    mkdirSync(packed);
    // the plugin and the kafkajs fixes it depends on, each from its own tarball
    run('npm', ['pack', '--pack-destination', packed], PACKAGE_DIR, 180_000);
    run('npm', ['pack', '--pack-destination', packed], RESILIENCE_DIR, 180_000);
    const tarball = (name: string) =>
      join(
        packed,
        readdirSync(packed).find((f) => f.startsWith(`${name}-`))!,
      );
    service = join(scratch, 'service');
    mkdirSync(service);
    const dev = pkg.devDependencies;
    writeFileSync(
      join(service, 'package.json'),
      JSON.stringify(
        {
          name: 'installed-kafka',
          private: true,
          devDependencies: {
            '@types/aws-lambda': '8.10.164',
            esbuild: dev.esbuild,
            serverless: dev.serverless,
            'serverless-esbuild': dev['serverless-esbuild'],
            'serverless-offline': dev['serverless-offline'],
            [pkg.name]: `file:${tarball(pkg.name)}`,
          },
          overrides: {
            // serverless-offline 13 asks for serverless@^3; osls is the v3 line under the same commands
            serverless: '$serverless',
            // from its tarball, as the registry would give it
            'kafkajs-resilience': `file:${tarball('kafkajs-resilience')}`,
          },
        },
        null,
        2,
      ),
    );
    writeFileSync(join(service, 'serverless.yml'), SERVERLESS_YML);
    writeFileSync(join(service, 'handler.ts'), HANDLER_TS);
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], service, 300_000);
    await createTopic(topic, 2);
  }, 600_000);

  afterAll(async () => {
    await offline?.stop();
    await deleteTopics([topic]);
    if (service) rmSync(resolve(service, '..'), { recursive: true, force: true });
  });

  it('installs as built JavaScript, resolved from the service and nowhere else', () => {
    const installed = join(service, 'node_modules', pkg.name);
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { version: string };
    expect(manifest.version).toBe(pkg.version);
    expect(existsSync(join(installed, 'dist', 'index.js'))).toBe(true);
    expect(existsSync(join(installed, 'src'))).toBe(false);
    const resolved = run(process.execPath, ['-p', `require.resolve('${pkg.name}')`], service, 30_000).trim();
    expect(resolved).toBe(join(installed, 'dist', 'index.js'));
  });

  it('serverless offline start consumes the topic: AWS event shape, offsets committed after success', async () => {
    const report = join(service, 'report.jsonl');
    const producer = testKafka('installed-producer').producer();
    await producer.connect();
    const values = Array.from({ length: 12 }, (_, i) => JSON.stringify({ n: i }));
    try {
      await producer.send({
        topic,
        acks: -1,
        messages: values.map((value, i) => ({ key: `k${i % 3}`, value, headers: { 'trace-id': `t${i}` } })),
      });
    } finally {
      await producer.disconnect();
    }
    offline = await startOffline({
      cwd: service,
      serverless: join(service, 'node_modules', 'serverless', 'bin', 'serverless.js'),
      env: { REPORT_FILE: report, TOPIC: topic, GROUP: group },
      readyPattern: /kafka: ready: /,
      timeoutMs: 120_000,
    });
    const events = await waitFor(
      () => {
        const lines = existsSync(report) ? readFileSync(report, 'utf8').trim().split('\n').filter(Boolean) : [];
        const parsed = lines.map((l) => JSON.parse(l) as DeliveredEvent);
        const count = parsed.reduce((n, e) => n + Object.values(e.records).flat().length, 0);
        return count >= values.length ? parsed : undefined;
      },
      { timeoutMs: 60_000, what: `${values.length} records delivered to the handler` },
    );
    const records = events!.flatMap((e) =>
      Object.entries(e.records).flatMap(([key, list]) => list.map((r) => ({ ...r, batchKey: key }))),
    );
    for (const e of events!) {
      expect(e.eventSource).toBe('aws:kafka');
      expect(e.eventSourceArn).toBe(
        'arn:aws:kafka:eu-west-1:123456789012:cluster/demo/11111111-2222-3333-4444-555555555555-1',
      );
      expect(typeof e.bootstrapServers).toBe('string');
    }
    expect(records.map((r) => Buffer.from(r.value, 'base64').toString()).sort()).toEqual([...values].sort());
    for (const r of records) {
      expect(r.batchKey).toBe(`${topic}-${r.partition}`);
      expect(Buffer.from(r.key as string, 'base64').toString()).toMatch(/^k[0-2]$/);
      expect(typeof r.offset).toBe('number');
      expect(r.timestampType).toBe('CREATE_TIME');
      expect(r.headers).toEqual([{ 'trace-id': expect.any(Array) }]);
    }
    // a batch is committed once the handler returned: every partition's offset reaches its end
    const ends = await withAdmin((admin) => admin.fetchTopicOffsets(topic));
    await waitFor(
      async () => {
        const [committed] = await withAdmin((admin) => admin.fetchOffsets({ groupId: group, topics: [topic] }));
        // a partition that received nothing has nothing to commit
        return ends.every(
          (end) =>
            end.high === '0' || committed?.partitions.find((p) => p.partition === end.partition)?.offset === end.high,
        );
      },
      { timeoutMs: 30_000, what: 'the group to commit every delivered record' },
    );
    expect(await consumeRecords(topic, values.length, { timeoutMs: 30_000 })).toHaveLength(values.length);
    // and HTTP functions of the same service keep serving beside the consumers
    expect(await (await fetch(`${offline.url}/ping`)).text()).toBe('pong');
  }, 240_000);

  it('serverless package writes the settings the framework drops into the event source mapping', () => {
    const out = join(service, '.serverless-test');
    run(
      process.execPath,
      [
        join(service, 'node_modules', 'serverless', 'bin', 'serverless.js'),
        'package',
        '--stage',
        'dev',
        '--package',
        out,
      ],
      service,
      240_000,
    );
    const template = JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const mappings = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(1);
    expect(mappings[0]!.Properties).toMatchObject({
      Topics: ['orders'],
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 0,
      MaximumRetryAttempts: 2,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  }, 240_000);
});
