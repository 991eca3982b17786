import { ensureJars } from '../../../broker/broker';
import { loadConfig } from '../../../lib/config';
import { createKafka } from '../../../lib/kafka/client';
import { ensureTopics, TOPICS } from '../../../lib/kafka/topics';
import { createLogger } from '../../../lib/logger';
import { startOffline, type OfflineProcess } from '../../helpers/offline';
import { startSecondBroker, type SecondBroker } from '../request-reply/second-broker';

/**
 * What a newcomer sees from `npm start` when the broker was started a moment ago: Kafka creates its
 * offsets topic on the consumers' first request and answers "coordinator not available" meanwhile.
 * A throw-away broker of its own (the shared one has long had that topic), stopped by the test.
 */
describe('serverless offline on a broker that has just started', () => {
  let broker: SecondBroker | undefined;
  let offline: OfflineProcess | undefined;
  afterAll(async () => {
    await offline?.stop();
    await broker?.destroy();
  });

  it('prints no error line before `kafka: ready`, only one line saying it waits for the coordinator', async () => {
    await ensureJars(); // the jar broker's classpath, resolved once (a Docker-run npm test has none yet)
    broker = await startSecondBroker();
    const logger = createLogger({ level: 'silent' });
    const admin = createKafka({ config: loadConfig({ KAFKA_BROKERS: broker.address }), logger }).admin();
    await admin.connect();
    await ensureTopics(admin, TOPICS, logger); // what npm start does before serverless offline
    await admin.disconnect();

    offline = await startOffline({
      env: { KAFKA_BROKERS: broker.address },
      readyPattern: /kafka: ready: 6 consumer/,
      timeoutMs: 90_000,
    });
    const output = offline.output();
    const beforeReady = output.slice(0, output.indexOf('kafka: ready:')).split('\n');
    expect(beforeReady.filter((line) => /^\s*×|error|kafkajs/i.test(line))).toEqual([]);
    // Kafka always answers the first FindCoordinator of a fresh cluster with COORDINATOR_NOT_AVAILABLE
    expect(beforeReady.filter((line) => /kafka: waiting for the group coordinator/.test(line))).toHaveLength(1);
  });
});
