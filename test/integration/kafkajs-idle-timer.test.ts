import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../lib/config';
import { createKafka } from '../../lib/kafka/client';
import { createLogger } from '../../lib/logger';
import { BROKERS, createTopic, deleteTopics, uniqueName, withAdmin } from '../helpers/kafka';

type KafkajsModule = typeof import('kafkajs');
interface RequestQueuePrototype {
  checkPendingRequests(): void;
}

/** How often an idle producer connection's request queue wakes up in `idleMs`, after one send. */
async function idleQueueChecks(
  kafka: InstanceType<KafkajsModule['Kafka']>,
  proto: RequestQueuePrototype,
  topic: string,
) {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, messages: [{ value: 'one record, then nothing' }] });
    await sleep(50);
    let checks = 0;
    const original = proto.checkPendingRequests;
    proto.checkPendingRequests = function (this: unknown) {
      checks += 1;
      original.call(this);
    };
    try {
      await sleep(500);
    } finally {
      proto.checkPendingRequests = original;
    }
    return checks;
  } finally {
    await producer.disconnect();
  }
}

describe('kafkajs idle connections (kafkajs-resilience)', () => {
  const topic = uniqueName('idle-timer');
  beforeAll(() => createTopic(topic));
  afterAll(() => deleteTopics([topic]));

  it('plain kafkajs 2.2.4 wakes every idle connection about once a millisecond (the bug the fix is for)', async () => {
    let plain!: { kafkajs: KafkajsModule; proto: RequestQueuePrototype };
    jest.isolateModules(() => {
      plain = {
        kafkajs: jest.requireActual<KafkajsModule>('kafkajs'),
        proto: (jest.requireActual('kafkajs/src/network/requestQueue') as { prototype: RequestQueuePrototype })
          .prototype,
      };
    });
    const kafka = new plain.kafkajs.Kafka({ brokers: BROKERS, logLevel: plain.kafkajs.logLevel.NOTHING });
    // if this stops failing, kafkajs fixed it upstream and the idle-timer fix in packages/kafkajs-resilience/src/idle-timer-fix.ts can go
    expect(await idleQueueChecks(kafka, plain.proto, topic)).toBeGreaterThan(100);
  });

  it("the service's clients (createKafka) stay asleep while idle, and still deliver", async () => {
    const config = loadConfig({ KAFKA_BROKERS: BROKERS.join(','), KAFKA_CLIENT_ID: 'idle-timer-test' });
    const kafka = createKafka({ config, logger: createLogger({ level: 'silent' }) });
    const proto = (jest.requireActual('kafkajs/src/network/requestQueue') as { prototype: RequestQueuePrototype })
      .prototype;
    expect(await idleQueueChecks(kafka, proto, topic)).toBeLessThan(5);
    const offsets = await withAdmin((admin) => admin.fetchTopicOffsets(topic));
    expect(Number(offsets[0]!.high)).toBe(2);
  });
});
