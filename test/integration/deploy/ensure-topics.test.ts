/**
 * The deploy-time custom resource (deploy/ensure-topics.ts) against the real broker: it creates the
 * declared topics, is idempotent on Update, keeps the topics on Delete, and always answers
 * CloudFormation (here a local HTTP server standing in for the presigned response URL).
 */
import { createServer, type Server } from 'node:http';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { TOPICS } from '../../../lib/kafka/topics';
import { BROKERS, deleteTopics, uniqueName, withAdmin } from '../../helpers/kafka';

interface Answer {
  Status: string;
  Reason?: string;
  PhysicalResourceId: string;
  RequestId: string;
  Data?: Record<string, string>;
}

const prefix = `${uniqueName('cr')}-`;
const declared = TOPICS.map((t) => `${prefix}${t.name}`);
let server: Server;
let url: string;
const answers: Answer[] = [];
const saved = { ...process.env };

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      answers.push(JSON.parse(body) as Answer);
      res.end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/response`;
});

afterAll(async () => {
  process.env = saved;
  await deleteTopics(declared);
  await new Promise((done) => server.close(done));
});

const context = { getRemainingTimeInMillis: () => 60_000 } as Context;
const event = (RequestType: 'Create' | 'Update' | 'Delete', requestId: string) =>
  ({
    RequestType,
    ResponseURL: url,
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/kafka-serverless-example/1',
    RequestId: requestId,
    LogicalResourceId: 'KafkaTopics',
    ResourceType: 'Custom::KafkaTopics',
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:kafka-serverless-example-ensure-topics',
    ResourceProperties: { ServiceToken: 'x' },
    ...(RequestType === 'Create' ? {} : { PhysicalResourceId: 'kafka-topics-KafkaTopics', OldResourceProperties: {} }),
  }) as unknown as CloudFormationCustomResourceEvent;

/** the handler, loaded with its own module state (lib/runtime.ts reads the environment once) */
async function loadHandler(env: Record<string, string>) {
  process.env = { ...saved, ...env, LOG_LEVEL: 'silent' };
  let handler!: typeof import('../../../deploy/ensure-topics').handler;
  await jest.isolateModulesAsync(async () => {
    ({ handler } = await import('../../../deploy/ensure-topics'));
  });
  return handler;
}

const topicsOnBroker = () => withAdmin((admin) => admin.listTopics());

describe('ensure-topics custom resource', () => {
  it('creates every declared topic on Create, with its partitions, and answers SUCCESS', async () => {
    const handler = await loadHandler({ KAFKA_BROKERS: BROKERS.join(','), KAFKA_TOPIC_PREFIX: prefix });

    await handler(event('Create', 'r1'), context);

    expect(answers.at(-1)).toMatchObject({ Status: 'SUCCESS', RequestId: 'r1' });
    expect(answers.at(-1)!.Data!.Created!.split(',').sort()).toEqual([...declared].sort());
    expect(await topicsOnBroker()).toEqual(expect.arrayContaining(declared));
    const metadata = await withAdmin((admin) => admin.fetchTopicMetadata({ topics: declared }));
    for (const t of TOPICS) {
      expect(metadata.topics.find((m) => m.name === `${prefix}${t.name}`)!.partitions).toHaveLength(t.partitions);
    }
  });

  it('is idempotent on Update (a redeploy), and keeps the topics on Delete', async () => {
    const handler = await loadHandler({ KAFKA_BROKERS: BROKERS.join(','), KAFKA_TOPIC_PREFIX: prefix });

    await handler(event('Update', 'r2'), context);
    await handler(event('Delete', 'r3'), context);

    expect(answers.at(-2)).toMatchObject({ Status: 'SUCCESS', RequestId: 'r2', Data: { Created: '' } });
    expect(answers.at(-1)).toMatchObject({ Status: 'SUCCESS', RequestId: 'r3' });
    expect(answers.at(-1)!.PhysicalResourceId).toBe('kafka-topics-KafkaTopics');
    expect(await topicsOnBroker()).toEqual(expect.arrayContaining(declared));
  });

  it('answers FAILED with the reason when the cluster cannot be reached, so the deploy stops', async () => {
    const handler = await loadHandler({
      KAFKA_BROKERS: '127.0.0.1:1',
      KAFKA_TOPIC_PREFIX: prefix,
      KAFKA_CONNECTION_TIMEOUT_MS: '200',
    });

    await handler(event('Create', 'r4'), { getRemainingTimeInMillis: () => 20_000 } as Context);

    expect(answers.at(-1)).toMatchObject({ Status: 'FAILED', RequestId: 'r4' });
    expect(answers.at(-1)!.Reason).toMatch(/^creating the Kafka topics failed: /);
  });
});
