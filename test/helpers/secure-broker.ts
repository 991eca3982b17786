import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type ITopicConfig } from 'kafkajs';
import { createTopics } from 'kafkajs-resilience';
import { startSecureBroker, type ScramUser, type SecureBroker } from '../../broker/secure';
import { freePort } from './offline';

/**
 * A secured broker (broker/secure.ts) of one test file's own, in a temporary folder on free ports, so the
 * shared broker and `npm run broker -- up --secure` are never touched; `stop` also removes the folder.
 */
export async function startPrivateSecureBroker(user: ScramUser): Promise<SecureBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'kafka-secure-test-'));
  const ports = { plaintext: await freePort(), tls: await freePort(), scram: await freePort() };
  const more = { oauth: await freePort(), mtls: await freePort(), controller: await freePort() };
  try {
    const broker = await startSecureBroker({ dir, ports: { ...ports, ...more }, user });
    return {
      ...broker,
      stop: async () => {
        await broker.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** Create topics through a broker's plaintext listener (`broker.plaintext`). */
export async function createTopicsAt(address: string, topics: ITopicConfig[]): Promise<void> {
  const admin = new Kafka({ clientId: 'test-setup', brokers: [address], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await createTopics(admin, topics);
  } finally {
    await admin.disconnect();
  }
}
