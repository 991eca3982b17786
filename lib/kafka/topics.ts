import type { Admin, ITopicConfig } from 'kafkajs';
import { createTopics } from 'kafkajs-resilience';
import type { Logger } from '../logger';
import TOPIC_NAMES from './topic-names.json';

/**
 * The name of every topic the service declares, before KAFKA_TOPIC_PREFIX. Kept in a JSON file so
 * serverless.yml reads the same names (`${file(./lib/kafka/topic-names.json)}` as `custom.topics`).
 */
export { TOPIC_NAMES };

export interface TopicDeclaration {
  name: string;
  partitions: number;
  /** broker-side topic configs, e.g. { 'retention.ms': '604800000' } */
  config?: Record<string, string>;
}

/**
 * Every topic the service uses, declared once. `npm start`, the tests and the deploy step create them
 * from here; the broker never auto-creates topics. A unit test checks that every topic named in
 * serverless.yml is declared here.
 */
export const TOPICS = [
  // keyed by order id; 6 partitions so up to 6 queue workers process orders in parallel
  { name: TOPIC_NAMES.orders, partitions: 6, config: { 'retention.ms': String(7 * 24 * 3600 * 1000) } },
  // order.fulfilled / order.rejected from fulfil-order, keyed by order id; read by every fan-out listener
  { name: TOPIC_NAMES.orderEvents, partitions: 6, config: { 'retention.ms': String(7 * 24 * 3600 * 1000) } },
  // what each fan-out listener did (docs/patterns.md), keyed by order id
  { name: TOPIC_NAMES.orderAudit, partitions: 6 },
  { name: TOPIC_NAMES.customerNotifications, partitions: 6 },
  // update-analytics's facts in Avro (schema in the registry), read by record-revenue
  { name: TOPIC_NAMES.orderAnalytics, partitions: 6 },
  // record-revenue's ledger entry per fulfilled order, keyed by order id
  { name: TOPIC_NAMES.revenueLedger, partitions: 6 },
  // poison records (not JSON, wrong schema) with the reason and the original record; kept 30 days to replay
  { name: TOPIC_NAMES.deadLetter, partitions: 1, config: { 'retention.ms': String(30 * 24 * 3600 * 1000) } },
  // request-reply (docs/request-reply.md). Requests keyed by product id; 6 partitions = up to 6 price-quote
  // invocations in parallel. Nobody waits for a reply longer than 29 s, so an hour of retention is plenty.
  { name: TOPIC_NAMES.quoteRequests, partitions: 6, config: { 'retention.ms': String(3600 * 1000) } },
  // each requester container reads ONE partition, picked at random at init. Any number of containers
  // works (those that share a partition drop each other's replies as unknown); 12 keeps sharing rare up
  // to about a dozen warm containers. More partitions: less wasted reading, no other change.
  { name: TOPIC_NAMES.quoteReplies, partitions: 12, config: { 'retention.ms': String(3600 * 1000) } },
] as const satisfies readonly TopicDeclaration[];

/**
 * The real name of a declared topic or consumer group: KAFKA_TOPIC_PREFIX + name. serverless.yml applies
 * the same prefix (`${env:KAFKA_TOPIC_PREFIX, ''}orders`) so functions and their triggers agree.
 *
 * @example
 * topicName({ topicPrefix: 'alice-' }, 'orders'); // 'alice-orders'
 */
export function topicName(config: { topicPrefix: string }, name: string): string {
  return `${config.topicPrefix}${name}`;
}

/**
 * The declared topics under their real names: KAFKA_TOPIC_PREFIX in front, and `quote-replies` under the
 * name QUOTE_REPLY_TOPIC gives it (same partitions and retention), so the configured reply topic is
 * created like every other. The request topic is not renamed here: when QUOTE_REQUEST_TOPIC points at
 * another service's topic, that service owns it.
 *
 * @example
 * declaredTopics({ topicPrefix: '', quotes: { replyTopic: 'quotes.replies' } }); // [..., { name: 'quotes.replies', partitions: 12, ... }]
 */
export function declaredTopics(config: { topicPrefix: string; quotes: { replyTopic: string } }): TopicDeclaration[] {
  return TOPICS.map((t) => ({
    ...t,
    name: topicName(config, t.name === TOPIC_NAMES.quoteReplies ? config.quotes.replyTopic : t.name),
  }));
}

/**
 * Create the declared topics that do not exist yet. Existing topics are left as they are; one with
 * fewer partitions than declared is reported (adding partitions moves keys, so it is not done silently).
 */
export async function ensureTopics(
  admin: Admin,
  topics: readonly TopicDeclaration[],
  logger: Logger,
): Promise<{ created: string[]; existing: string[] }> {
  const existingNames = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existingNames.has(t.name));
  if (missing.length > 0) {
    const toCreate: ITopicConfig[] = missing.map((t) => ({
      topic: t.name,
      numPartitions: t.partitions,
      replicationFactor: -1, // the broker's default: 1 locally, 3 on a 3-AZ MSK cluster
      configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value })),
    }));
    // another process may create them in between: that is fine
    await createTopics(admin, toCreate);
  }
  const existing = topics.filter((t) => existingNames.has(t.name));
  if (existing.length > 0) {
    const metadata = await admin.fetchTopicMetadata({ topics: existing.map((t) => t.name) });
    for (const t of existing) {
      const actual = metadata.topics.find((m) => m.name === t.name)?.partitions.length ?? 0;
      if (actual < t.partitions) {
        logger.warn(
          { topic: t.name, declared: t.partitions, actual },
          'topic has fewer partitions than declared; add them with the Kafka admin tools if you accept that keys move',
        );
      }
    }
  }
  return { created: missing.map((t) => t.name), existing: existing.map((t) => t.name) };
}
