/**
 * A plain NestJS service on its Kafka transport, for test/integration/request-reply/nestjs-interop.test.ts.
 * Nothing of this project's code on this side: only @nestjs/microservices as its users write it.
 *
 *   tsx app.mts responder   a @MessagePattern(REQUEST_TOPIC) controller; productIds starting with
 *                           "out-of-stock-" are refused with an RpcException (NestJS's error reply)
 *   tsx app.mts requester   a ClientKafka sending COUNT requests to REQUEST_TOPIC, CONCURRENCY at a time,
 *                           plus one for ERROR_PRODUCT_ID; prints one JSON line with what it counted
 *
 * Environment: KAFKA_BROKERS, REQUEST_TOPIC, GROUP_ID, COUNT, CONCURRENCY, ERROR_PRODUCT_ID, TIMEOUT_MS.
 * Prints "ready" once listening (responder) or once its reply partition is assigned (requester).
 */
import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientKafka, MessagePattern, Payload, RpcException, Transport } from '@nestjs/microservices';
import { lastValueFrom, timeout } from 'rxjs';

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};
const brokers = env('KAFKA_BROKERS').split(',');
const requestTopic = env('REQUEST_TOPIC');
const groupId = env('GROUP_ID');

interface QuoteRequest {
  productId: string;
  quantity: number;
}

@Controller()
class QuoteController {
  @MessagePattern(requestTopic)
  quote(@Payload() request: QuoteRequest) {
    if (request.productId.startsWith('out-of-stock-')) {
      throw new RpcException({ code: 'OUT_OF_STOCK', message: `${request.productId} is out of stock` });
    }
    return {
      productId: request.productId,
      quantity: request.quantity,
      totalCents: request.quantity * 250,
      by: 'nestjs',
    };
  }
}

@Module({ controllers: [QuoteController] })
class ResponderModule {}

async function responder(): Promise<void> {
  const app = await NestFactory.createMicroservice(ResponderModule, {
    logger: ['error', 'warn'],
    transport: Transport.KAFKA,
    options: {
      client: { clientId: 'nest-responder', brokers },
      consumer: { groupId },
      // a fresh topic per test: requests sent while the group is still joining are not skipped
      subscribe: { fromBeginning: true },
      run: { partitionsConsumedConcurrently: 6 },
    },
  });
  await app.listen();
  console.log('ready');
  const stop = () => void app.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

async function requester(): Promise<void> {
  const count = Number(env('COUNT', '300'));
  const concurrency = Number(env('CONCURRENCY', '16'));
  const timeoutMs = Number(env('TIMEOUT_MS', '10000'));
  const client = new ClientKafka({
    client: { clientId: 'nest-requester', brokers },
    consumer: { groupId },
    subscribe: { fromBeginning: true },
  });
  client.subscribeToResponseOf(requestTopic);
  await client.connect();
  const replyTopic = `${requestTopic}.reply`;
  // ClientKafka cannot send before its reply partition is assigned (InvalidKafkaClientTopicException)
  for (let waited = 0; client.getConsumerAssignments()[replyTopic] === undefined; waited += 50) {
    if (waited > 30_000) throw new Error(`no partition of ${replyTopic} assigned within 30 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  console.log('ready');

  const counts = { sent: 0, replies: 0, mismatches: 0, timeouts: 0, errors: 0 };
  const samples: unknown[] = [];
  let next = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const request = { productId: `nest-${i}`, quantity: i + 1 };
        counts.sent += 1;
        try {
          const reply = await lastValueFrom(client.send(requestTopic, request).pipe(timeout(timeoutMs)));
          counts.replies += 1;
          const quote = reply as { productId?: string; quantity?: number };
          if (quote.productId !== request.productId || quote.quantity !== request.quantity) {
            counts.mismatches += 1;
            if (samples.length < 3) samples.push({ request, reply });
          }
        } catch (error) {
          if ((error as Error).name === 'TimeoutError') counts.timeouts += 1;
          else counts.errors += 1;
          if (samples.length < 3) samples.push({ request, error: String(error) });
        }
      }
    }),
  );
  const elapsedMs = Date.now() - started;
  let errorReply: unknown = null;
  const errorProductId = process.env.ERROR_PRODUCT_ID;
  if (errorProductId) {
    try {
      const reply = await lastValueFrom(
        client.send(requestTopic, { productId: errorProductId, quantity: 1 }).pipe(timeout(timeoutMs)),
      );
      errorReply = { unexpectedSuccess: reply };
    } catch (error) {
      errorReply = { error };
    }
  }
  console.log(JSON.stringify({ result: { ...counts, elapsedMs, samples, errorReply } }));
  await client.close();
}

const mode = process.argv[2];
(mode === 'responder'
  ? responder()
  : mode === 'requester'
    ? requester()
    : Promise.reject(new Error(`mode? ${mode}`))
).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
