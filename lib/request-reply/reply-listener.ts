import { randomInt, randomUUID } from 'node:crypto';
import {
  AssignerProtocol,
  type Consumer,
  type ConsumerConfig,
  type KafkaMessage,
  type PartitionAssigner,
} from 'kafkajs';
import { withDeadline } from '../deadline';
import { reportKafkaFailure, type OutageSink } from 'kafkajs-resilience';
import type { Logger } from '../logger';
import { ReplyListenerUnavailableError } from './errors';
import { encodeReplyPartition } from './protocol';

export interface ReplyListenerOptions {
  /** builds the listener's kafkajs consumer (`kafka.consumer`) */
  createConsumer: (config: ConsumerConfig) => Consumer;
  /** the topic's end offset per partition (the request-reply transport's admin) */
  endOffsets: (topic: string) => Promise<Map<number, string>>;
  logger: Logger;
  replyTopic: string;
  /** the reply partition to read; default: one chosen at random at the first start */
  replyPartition?: number;
  /** prefix of the listener's own consumer group id (unique per container) */
  groupIdPrefix: string;
  /** the group session (default 30 s) */
  sessionTimeoutMs?: number;
  /** every record read from the reply partition, in offset order */
  onMessage: (message: KafkaMessage, partition: number) => void;
  /** first wait before a crashed listener is started again (doubles up to 5 s); default 250 ms */
  relaunchDelayMs?: number;
  /** where an unreachable broker is told once per outage */
  outage?: OutageSink;
}

export interface ReplyListener {
  /** Be positioned on the reply partition (idempotent), within `timeoutMs`; ReplyListenerUnavailableError otherwise. */
  start(timeoutMs: number): Promise<void>;
  /** the reply partition, once the first start read the topic's partitions */
  partition(): number | undefined;
  /** times the listener (re)joined its group and was positioned */
  joins(): number;
  /** Leave the group and disconnect; no start after this. */
  stop(): Promise<void>;
}

const ASSIGNER_NAME = 'RequestReplyOwnPartition';

/**
 * kafkajs 2.2.4 has no `assign()` (tulios/kafkajs#373). The listener joins a consumer group of its own
 * (one member) with this assigner, which hands the member exactly the partition it put in its
 * subscription metadata. No other container is ever in the group, so nothing rebalances it away.
 */
function ownPartitionAssigner(partition: number): PartitionAssigner {
  return () => ({
    name: ASSIGNER_NAME,
    version: 1,
    async assign({ members, topics }) {
      return members.map((member) => {
        const { userData } = AssignerProtocol.MemberMetadata.decode(member.memberMetadata) ?? { userData: null };
        const wanted = userData && userData.length === 4 ? userData.readInt32BE(0) : partition;
        return {
          memberId: member.memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({
            version: 1,
            assignment: Object.fromEntries(topics.map((topic) => [topic, [wanted]])),
            userData: Buffer.alloc(0),
          }),
        };
      });
    },
    protocol({ topics }) {
      return {
        name: ASSIGNER_NAME,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 1,
          topics,
          userData: encodeReplyPartition(partition),
        }),
      };
    },
  });
}

/**
 * ONE container's reader of its reply partition, through a consumer group of its own.
 *
 * - The start offset is the partition's end offset read BEFORE the first request is sent, set with
 *   `seek` on GROUP_JOIN, i.e. before the first fetch: a reply cannot be missed, however slow the join.
 * - After a rejoin (a frozen container thawed, the broker restarted) it seeks to the last offset it
 *   handed over + 1. Offsets are never committed: the group leaves nothing behind on the broker.
 * - After a crash it starts again in the background under a NEW group id, resuming at the same offset.
 */
export function createReplyListener(options: ReplyListenerOptions): ReplyListener {
  const { logger, replyTopic } = options;
  const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
  let partition: number | undefined;
  /** the next offset to read after a (re)join: last offset handed over + 1, or the start offset */
  let nextOffset: string | undefined;
  let consumer: Consumer | undefined;
  let starting: Promise<void> | undefined;
  let stopped = false;
  let joins = 0;

  const launch = async (): Promise<void> => {
    const ends = await options.endOffsets(replyTopic).catch((error: unknown) => {
      throw new ReplyListenerUnavailableError(
        `cannot read the reply topic "${replyTopic}" (${(error as Error).message}); is the broker reachable and the topic created?`,
        { cause: error },
      );
    });
    if (ends.size === 0) throw new ReplyListenerUnavailableError(`the reply topic "${replyTopic}" has no partitions`);
    partition ??= options.replyPartition ?? randomInt(ends.size);
    if (!ends.has(partition)) {
      throw new ReplyListenerUnavailableError(`the reply topic "${replyTopic}" has no partition ${partition}`);
    }
    nextOffset ??= ends.get(partition)!;
    const mine = partition;

    const listener = options.createConsumer({
      groupId: `${options.groupIdPrefix}.reply.${replyTopic}.${randomUUID()}`,
      partitionAssigners: [ownPartitionAssigner(mine)],
      allowAutoTopicCreation: false,
      // a reply wakes the long poll at once; the wait only bounds how often heartbeats are sent when idle
      maxWaitTimeInMs: 1000,
      sessionTimeout,
      heartbeatInterval: Math.min(3000, Math.floor(sessionTimeout / 3)),
      retry: { initialRetryTime: 200, retries: 5, maxRetryTime: 2000, restartOnFailure: async () => false },
    });
    let joined!: () => void;
    let failed!: (error: Error) => void;
    const positioned = new Promise<void>((resolve, reject) => {
      joined = resolve;
      failed = reject;
    });
    positioned.catch(() => undefined);
    listener.on(listener.events.GROUP_JOIN, ({ payload }) => {
      if (!payload.memberAssignment[replyTopic]?.includes(mine)) return;
      // applied before the first fetch of this (re)join: no reply is skipped, none delivered twice
      listener.seek({ topic: replyTopic, partition: mine, offset: nextOffset! });
      joins += 1;
      logger.debug({ replyTopic, partition: mine, offset: nextOffset, joins }, 'reply listener positioned');
      options.outage?.success('reply listener');
      joined();
    });
    listener.on(listener.events.CRASH, ({ payload }) => {
      if (!reportKafkaFailure(options.outage, 'reply listener', payload.error))
        logger.warn({ err: payload.error, replyTopic }, 'reply listener crashed; starting a new one');
      if (consumer !== listener) return;
      // Not kafkajs's own restart (restartOnFailure above): it rejoins the SAME group under a new member
      // id and, after a broker restart, waits a whole session timeout for the old member to expire. A
      // group with a new id is joined at once; it carries no state (offsets are never committed) and
      // resumes from nextOffset.
      consumer = undefined;
      starting = undefined;
      failed(
        new ReplyListenerUnavailableError(`the reply listener stopped: ${payload.error.message}`, {
          cause: payload.error,
        }),
      );
      void listener.disconnect().catch(() => undefined);
      relaunchSoon();
    });
    consumer = listener;
    try {
      await listener.connect();
      await listener.subscribe({ topic: replyTopic });
      await listener.run({
        autoCommit: false,
        eachBatchAutoResolve: true,
        eachBatch: async ({ batch }) => {
          for (const message of batch.messages) {
            options.onMessage(message, batch.partition);
            nextOffset = (BigInt(message.offset) + 1n).toString();
          }
        },
      });
    } catch (error) {
      if (consumer === listener) consumer = undefined;
      await listener.disconnect().catch(() => undefined);
      throw new ReplyListenerUnavailableError(`the reply listener could not start: ${(error as Error).message}`, {
        cause: error,
      });
    }
    await positioned;
    logger.info({ replyTopic, partition: mine, offset: nextOffset }, 'reply listener ready');
  };

  const begin = (): Promise<void> => {
    if (!starting) {
      const attempt = launch();
      starting = attempt;
      // a failed start is forgotten so the next request tries again (unless a newer attempt replaced it)
      attempt.catch((error: unknown) => {
        if (starting === attempt) starting = undefined;
        reportKafkaFailure(options.outage, 'reply listener', error);
      });
    }
    return starting;
  };

  let relaunchTimer: NodeJS.Timeout | undefined;
  /** after a crash, keep trying in the background (backoff up to 5 s) so the listener is ready before the next request */
  const relaunchSoon = (delayMs = options.relaunchDelayMs ?? 250): void => {
    if (stopped || relaunchTimer) return;
    relaunchTimer = setTimeout(() => {
      relaunchTimer = undefined;
      if (stopped || starting) return;
      begin().catch(() => relaunchSoon(Math.min(delayMs * 2, 5000)));
    }, delayMs);
    relaunchTimer.unref();
  };

  return {
    async start(timeoutMs) {
      if (stopped) throw new ReplyListenerUnavailableError('the requester was stopped');
      await withDeadline(
        begin(),
        timeoutMs,
        () =>
          new ReplyListenerUnavailableError(
            `the reply listener was not positioned on "${replyTopic}" within ${timeoutMs} ms; the broker may be unreachable`,
            { unreachable: true },
          ),
      );
    },
    partition: () => partition,
    joins: () => joins,
    async stop() {
      stopped = true;
      clearTimeout(relaunchTimer);
      const listener = consumer;
      consumer = undefined;
      starting = undefined;
      await listener?.disconnect();
    },
  };
}
