import { AssignerProtocol, type Consumer, type ConsumerConfig, type KafkaMessage, type TopicMessages } from 'kafkajs';
import type { RrTransport } from '../../../lib/request-reply/transport';

type Listener = (event: { payload: never }) => void;

/**
 * A kafkajs consumer without a broker, for the reply listener: it records `seek`, captures `eachBatch`,
 * and lets a test emit GROUP_JOIN (with the assignment the listener's own assigner computes) and CRASH.
 */
export class FakeConsumer {
  readonly events = { GROUP_JOIN: 'consumer.group_join', CRASH: 'consumer.crash' } as Consumer['events'];
  readonly seeks: { topic: string; partition: number; offset: string }[] = [];
  /** what happened, in order: connect, subscribe, run, seek:<offset>, batch:<first offset>, disconnect */
  readonly calls: string[] = [];
  readonly #listeners = new Map<string, Listener[]>();
  #eachBatch: ((payload: never) => Promise<void>) | undefined;

  constructor(
    readonly config: ConsumerConfig,
    private readonly behaviour: { failConnect?: Error } = {},
  ) {}

  on(event: string, listener: Listener): () => void {
    this.#listeners.set(event, [...(this.#listeners.get(event) ?? []), listener]);
    return () => undefined;
  }

  async connect(): Promise<void> {
    this.calls.push('connect');
    if (this.behaviour.failConnect) throw this.behaviour.failConnect;
  }

  async subscribe(): Promise<void> {
    this.calls.push('subscribe');
  }

  async run(config: { eachBatch: (payload: never) => Promise<void> }): Promise<void> {
    this.calls.push('run');
    this.#eachBatch = config.eachBatch;
  }

  seek(target: { topic: string; partition: number; offset: string }): void {
    this.calls.push(`seek:${target.offset}`);
    this.seeks.push(target);
  }

  async disconnect(): Promise<void> {
    this.calls.push('disconnect');
  }

  get running(): boolean {
    return this.#eachBatch !== undefined;
  }

  /** The partitions the listener's own assigner hands this (single) member of its group. */
  async assignment(topic: string): Promise<number[]> {
    const assigner = this.config.partitionAssigners![0]!({} as never);
    const { metadata } = assigner.protocol({ topics: [topic] });
    const [member] = await assigner.assign({
      members: [{ memberId: 'm-1', memberMetadata: metadata }],
      topics: [topic],
    });
    return AssignerProtocol.MemberAssignment.decode(member!.memberAssignment)!.assignment[topic]!;
  }

  /** The group (re)joined: GROUP_JOIN with the assignment of its own assigner, or `partitions` when given. */
  async join(topic: string, partitions?: number[]): Promise<void> {
    const assigned = partitions ?? (await this.assignment(topic));
    this.#emit(this.events.GROUP_JOIN, { memberAssignment: { [topic]: assigned } });
  }

  crash(error: Error): void {
    this.#emit(this.events.CRASH, { error, groupId: this.config.groupId, restart: false });
  }

  /** One fetched batch, as kafkajs hands it to `eachBatch`. */
  async deliver(topic: string, partition: number, messages: KafkaMessage[]): Promise<void> {
    if (!this.#eachBatch) throw new Error('the consumer is not running');
    this.calls.push(`batch:${messages[0]?.offset}`);
    await this.#eachBatch({ batch: { topic, partition, messages } } as never);
  }

  #emit(event: string, payload: unknown): void {
    for (const listener of this.#listeners.get(event) ?? []) listener({ payload } as never);
  }
}

/** Builds FakeConsumers and keeps them, newest last. */
export class FakeKafka {
  readonly consumers: FakeConsumer[] = [];
  failConnect: Error | undefined;

  consumer(config: ConsumerConfig): Consumer {
    const consumer = new FakeConsumer(config, { failConnect: this.failConnect });
    this.consumers.push(consumer);
    return consumer as unknown as Consumer;
  }

  get latest(): FakeConsumer {
    const consumer = this.consumers[this.consumers.length - 1];
    if (!consumer) throw new Error('no consumer was created');
    return consumer;
  }
}

/** A request-reply transport without a broker: records what is sent; end offsets as given. */
export class FakeTransport implements RrTransport {
  readonly sent: TopicMessages[] = [];
  ends = new Map<number, string>([
    [0, '0'],
    [1, '0'],
    [2, '0'],
  ]);
  endOffsetCalls = 0;
  failEndOffsets: Error | undefined;
  failSend: Error | undefined;

  async send(topicMessages: TopicMessages[]): Promise<void> {
    if (this.failSend) throw this.failSend;
    this.sent.push(...topicMessages);
  }
  async partitionCount(): Promise<number> {
    return this.ends.size;
  }
  async warm(): Promise<void> {}
  async endOffsets(_topic?: string): Promise<Map<number, string>> {
    this.endOffsetCalls += 1;
    if (this.failEndOffsets) throw this.failEndOffsets;
    return new Map(this.ends);
  }
  async disconnect(): Promise<void> {}
}

/** A record on the reply topic. */
export const replyMessage = (offset: number, headers: KafkaMessage['headers'], value: unknown = {}): KafkaMessage =>
  ({
    key: null,
    value: Buffer.from(JSON.stringify(value)),
    offset: String(offset),
    timestamp: String(Date.now()),
    attributes: 0,
    headers,
  }) as KafkaMessage;

/** Settle pending promise callbacks (a few turns of the microtask queue and one macrotask). */
export const flush = () => new Promise((resolve) => setImmediate(resolve));
