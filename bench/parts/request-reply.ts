/**
 * The request-reply half of `npm run bench`: POST /quotes through `serverless offline` in both invocation
 * modes, at concurrency 1 and 16, against its two floors (a raw kafkajs round trip, and serverless offline
 * answering from a no-op function), and how many reply listeners read each reply.
 */
import { AssignerProtocol, type Kafka } from 'kafkajs';
import { createTopics } from 'kafkajs-resilience';
import TOPIC_NAMES from '../../lib/kafka/topic-names.json';
import { TOPICS } from '../../lib/kafka/topics';
import { startOffline, type OfflineProcess } from '../../test/helpers/offline';
import { postQuote, type Call } from '../lib/http';
import { deleteTopics, startKafkaFloor, withAdmin } from '../lib/kafka';
import {
  MODE_ARGS,
  MODE_LABEL,
  MODES,
  readsPerReply,
  type BenchReport,
  type Mode,
  type RpcLevels,
} from '../lib/report';
import { drive } from '../lib/stats';

export interface RequestReplyOptions {
  kafka: Kafka;
  /** this project's folder (its serverless.yml) and the benchmark's fixture services */
  root: string;
  fixtures: string;
  /** requests at concurrency 16; at concurrency 1, at most 300 */
  requests: number;
  /** the mode `npm start` runs HTTP functions in */
  defaults: Mode;
  say(line: string): void;
}

/** Requests measured at concurrency 1: as many as at 16, at most 300 (each waits for the previous one). */
export const c1Requests = (requests: number): number => Math.min(requests, 300);

/** This project's serverless.yml reads its HTTP functions' mode from OFFLINE_IN_PROCESS (Kafka-triggered ones: worker threads). */
const modeEnv = (mode: Mode) => ({ OFFLINE_IN_PROCESS: String(mode === 'in_process') });

/** c1 and c16 of `call`, each level warmed up first (serverless offline starts a worker per concurrent call). */
async function levels(options: RequestReplyOptions, call: Call, label: string): Promise<RpcLevels> {
  const { requests, say } = options;
  await drive(16 * 4, 16, (i) => call(i, 'warm'));
  const c1 = await drive(c1Requests(requests), 1, (i) => call(i, 'c1'));
  const c16 = await drive(requests, 16, (i) => call(i, 'c16'));
  say(
    `${label}: c1 p50 ${c1.p50_ms} ms p99 ${c1.p99_ms} ms ${c1.rps} req/s | c16 p50 ${c16.p50_ms} ms p99 ${c16.p99_ms} ms ` +
      `${c16.rps} req/s | errors ${c1.errors + c16.errors}, mismatches ${c1.mismatches + c16.mismatches}`,
  );
  return { c1, c16 };
}

/** Reply partitions held by the live reply listeners (one group each), and replies written per partition. */
async function replyReads(kafka: Kafka, prefix: string): Promise<{ readsPerReply: number; containers: number }> {
  const replyTopic = `${prefix}${TOPIC_NAMES.quoteReplies}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const groups = (await admin.listGroups()).groups
      .map((g) => g.groupId)
      .filter((id) => id.includes(`.reply.${replyTopic}.`));
    const listeners = new Map<number, number>();
    let containers = 0;
    if (groups.length > 0) {
      for (const group of (await admin.describeGroups(groups)).groups) {
        for (const member of group.members) {
          const assignment = AssignerProtocol.MemberAssignment.decode(member.memberAssignment)?.assignment ?? {};
          for (const partition of assignment[replyTopic] ?? [])
            listeners.set(partition, (listeners.get(partition) ?? 0) + 1);
          containers += 1;
        }
      }
    }
    const replies = new Map(
      (await admin.fetchTopicOffsets(replyTopic)).map((o) => [o.partition, Number(o.high)] as const),
    );
    return { readsPerReply: readsPerReply(replies, listeners), containers };
  } finally {
    await admin.disconnect();
  }
}

export async function requestReply(options: RequestReplyOptions): Promise<BenchReport['rpc']> {
  const { kafka, root, fixtures, defaults, say } = options;
  const floor = await (async () => {
    const prefix = `bench-floor-${Date.now().toString(36)}-`;
    const floor = await startKafkaFloor(kafka, prefix);
    try {
      const call: Call = async (i, tag) => {
        const productId = `${tag}-${i}`;
        const answer = JSON.parse(await floor.call({ productId, quantity: 1 })) as { productId: string };
        return answer.productId === productId ? 'ok' : 'mismatch';
      };
      return await levels(options, call, 'floor: raw kafkajs round trip');
    } finally {
      await floor.stop();
    }
  })();

  const http = await (async () => {
    const offline = await startOffline({
      cwd: fixtures,
      config: 'http.yml',
      args: MODE_ARGS[defaults],
      timeoutMs: 120_000,
    });
    try {
      return await levels(
        options,
        postQuote(`${offline.url}/quotes`),
        'floor: serverless offline, no-op HTTP function',
      );
    } finally {
      await offline.stop();
    }
  })();

  const byMode = {} as Record<Mode, RpcLevels>;
  const reads = {} as Record<Mode, { readsPerReply: number; containers: number }>;
  for (const mode of MODES) {
    const prefix = `bench-rpc-${mode}-${Date.now().toString(36)}-`;
    const declared = TOPICS.map((t) => ({ topic: `${prefix}${t.name}`, numPartitions: t.partitions }));
    await withAdmin(kafka, (admin) => createTopics(admin, declared));
    let offline: OfflineProcess | undefined;
    try {
      offline = await startOffline({
        cwd: root,
        env: { KAFKA_TOPIC_PREFIX: prefix, LOG_LEVEL: 'error', REPLY_TIMEOUT_MS: '9000', ...modeEnv(mode) },
        readyPattern: /kafka: ready: /,
        timeoutMs: 180_000,
      });
      byMode[mode] = await levels(options, postQuote(`${offline.url}/quotes`), `this project, ${MODE_LABEL[mode]}`);
      reads[mode] = await replyReads(kafka, prefix);
      say(
        `reads per reply (${MODE_LABEL[mode]}): ${reads[mode].readsPerReply} over ${reads[mode].containers} containers`,
      );
    } finally {
      await offline?.stop();
      await deleteTopics(
        kafka,
        declared.map((t) => t.topic),
      );
    }
  }
  return {
    ...byMode,
    floor_kafka: floor,
    floor_http: http,
    reads_per_reply: reads[defaults].readsPerReply,
    reads_per_reply_by_mode: { worker: reads.worker.readsPerReply, in_process: reads.in_process.readsPerReply },
    containers_by_mode: { worker: reads.worker.containers, in_process: reads.in_process.containers },
  };
}
