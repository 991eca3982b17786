/**
 * npm run topics — create every topic declared in lib/kafka/topics.ts that does not exist yet on the
 * broker at KAFKA_BROKERS (with KAFKA_TOPIC_PREFIX in front of each name). Idempotent; `npm start` runs it before serverless offline.
 */
import { brokersOf } from '../broker/address';
import { loadConfig } from '../lib/config';
import { createKafka } from '../lib/kafka/client';
import { declaredTopics, ensureTopics } from '../lib/kafka/topics';
import { createLogger } from '../lib/logger';

export async function createServiceTopics(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadConfig({ ...env, KAFKA_BROKERS: brokersOf(env) });
  const logger = createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel });
  const admin = createKafka({ config, logger }).admin();
  await admin.connect();
  try {
    // the same names the functions use: KAFKA_TOPIC_PREFIX in front, QUOTE_REPLY_TOPIC applied
    const topics = declaredTopics(config);
    const { created, existing } = await ensureTopics(admin, topics, logger);
    const list = (names: string[]) => (names.length ? names.join(', ') : 'none');
    process.stderr.write(`[topics] created: ${list(created)}; already there: ${list(existing)}\n`);
  } finally {
    await admin.disconnect();
  }
}

if (require.main === module) {
  createServiceTopics().catch((error: unknown) => {
    process.stderr.write(`[topics] ${(error as Error).message}\n`);
    process.exitCode = 1;
  });
}
