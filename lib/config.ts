import * as z from './zod';
import {
  AWS_REGION,
  AWS_REGION_HINT,
  GLUE_REGISTRY_ARN,
  MSK_CLUSTER_ARN,
  MSK_CLUSTER_ARN_HINT,
  SECRET_ARN,
} from './aws-patterns';
import { ConfigError } from './errors';
import TOPIC_NAMES from './kafka/topic-names.json';

/**
 * How a requester writes `kafka_replyPartition`, i.e. what the responder reads: `int32`, 4 bytes big-endian
 * (Spring's `@SendTo` reads it as an int, this project's responder reads both), or `decimal`, the number as
 * text (NestJS's `ServerKafka` does `parseFloat` on it, and cannot read 4 raw bytes).
 */
export const REPLY_PARTITION_FORMATS = ['int32', 'decimal'] as const;
export type ReplyPartitionFormat = (typeof REPLY_PARTITION_FORMATS)[number];

export const AUTH_MODES = ['none', 'scram', 'iam'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const BROKER = /^[A-Za-z0-9.-]+:\d{1,5}$/;

const intMs = (fallback: number, min: number, max: number) =>
  z.pipe(
    z._default(z.string(), String(fallback)),
    z.transform((s: string, ctx) => {
      const n = Number(s);
      if (!/^\d+$/.test(s.trim()) || n < min || n > max) {
        ctx.issues.push({
          code: 'custom',
          message: `must be a whole number from ${min} to ${max}, got "${s}"`,
          input: s,
        });
        return z.NEVER;
      }
      return n;
    }),
  );

/** a Kafka topic name (legal characters and length per Apache Kafka's Topic.validate), before KAFKA_TOPIC_PREFIX */
const topic = (fallback: string) =>
  z._default(
    z.string().check(
      z.refine((s) => /^[A-Za-z0-9._-]{1,200}$/.test(s) && s !== '.' && s !== '..', {
        message: 'must be a Kafka topic name: 1-200 characters of letters, digits, . _ -',
      }),
    ),
    fallback,
  );

const bool = (fallback: boolean) =>
  z.pipe(
    z._default(z.enum(['true', 'false', '1', '0'], { error: 'must be true or false' }), fallback ? 'true' : 'false'),
    z.transform((s) => s === 'true' || s === '1'),
  );

/** The variables `loadConfig` reads, each with its rule and default (docs/configuration.md lists them; a test checks it). */
export const ENV_SCHEMA = z
  .object({
    // optional here: required below unless MSK_CLUSTER_ARN is set (then the brokers are discovered)
    KAFKA_BROKERS: z.optional(
      z
        .pipe(
          z.string(),
          z.transform((s) => s.split(',').map((b) => b.trim())),
        )
        .check(
          z.refine((list) => list.length > 0 && list.every((b) => BROKER.test(b)), {
            message: 'must be a comma-separated host:port list, e.g. 127.0.0.1:9092',
          }),
        ),
    ),
    /** on AWS: the MSK cluster whose bootstrap brokers are discovered at cold start (lib/kafka/msk.ts) */
    MSK_CLUSTER_ARN: z.optional(z.string().check(z.regex(MSK_CLUSTER_ARN, MSK_CLUSTER_ARN_HINT))),
    /** set by Lambda; signs MSK IAM tokens when the region cannot be read from MSK_CLUSTER_ARN */
    AWS_REGION: z.optional(z.string().check(z.regex(AWS_REGION, AWS_REGION_HINT))),
    /** SCRAM credentials in Secrets Manager ({"username","password"}), MSK's way; instead of KAFKA_SASL_USERNAME/PASSWORD */
    KAFKA_SASL_SECRET_ARN: z.optional(z.string().check(z.regex(SECRET_ARN, 'must be a Secrets Manager secret ARN'))),
    /** a PEM file of CA certificates to trust for TLS (self-managed brokers); MSK's certificates need none */
    KAFKA_SSL_CA_FILE: z.optional(z.string().check(z.minLength(1))),
    KAFKA_CLIENT_ID: z._default(
      z.string().check(z.regex(/^[A-Za-z0-9._-]{1,100}$/, 'must be 1-100 characters of letters, digits, . _ -')),
      'kafka-serverless',
    ),
    KAFKA_AUTH: z._default(z.enum(AUTH_MODES, { error: `must be one of ${AUTH_MODES.join(', ')}` }), 'none'),
    KAFKA_SSL: bool(false),
    KAFKA_SASL_USERNAME: z.optional(z.string().check(z.minLength(1))),
    KAFKA_SASL_PASSWORD: z.optional(z.string().check(z.minLength(1))),
    KAFKA_CONNECTION_TIMEOUT_MS: intMs(1000, 100, 60_000),
    KAFKA_REQUEST_TIMEOUT_MS: intMs(5000, 100, 300_000),
    /** how long an HTTP function waits for the broker to acknowledge a publish before answering 503 */
    PUBLISH_TIMEOUT_MS: intMs(5000, 100, 28_000),
    MAX_BODY_BYTES: intMs(64 * 1024, 1, 6 * 1024 * 1024),
    /** request-reply: how long a requester waits for a reply (capped by the function's remaining time) */
    REPLY_TIMEOUT_MS: intMs(5000, 100, 28_000),
    /** request-reply: the only topics a responder writes replies to (comma-separated, before KAFKA_TOPIC_PREFIX) */
    REPLY_TOPICS_ALLOWED: z.pipe(
      z._default(z.string(), ''),
      z.transform((s: string) =>
        s
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean),
      ),
    ),
    /** POST /quotes: the topic its requests go to (another service's request topic, if it answers quotes) */
    QUOTE_REQUEST_TOPIC: topic(TOPIC_NAMES.quoteRequests),
    /** POST /quotes: the topic it reads replies from; created with the other topics */
    QUOTE_REPLY_TOPIC: topic(TOPIC_NAMES.quoteReplies),
    /** POST /quotes: how kafka_replyPartition is written; `decimal` when a NestJS service answers (lib/request-reply/protocol.ts) */
    QUOTE_REPLY_PARTITION_FORMAT: z._default(
      z.enum(REPLY_PARTITION_FORMATS, { error: `must be one of ${REPLY_PARTITION_FORMATS.join(', ')}` }),
      'int32',
    ),
    /** where update-analytics registers its Avro schema: a Confluent-compatible registry's URL, or a Glue registry's ARN */
    SCHEMA_REGISTRY_URL: z.optional(
      z.string().check(
        z.refine((s) => (/^https?:\/\/[^/\s]+/.test(s) && URL.canParse(s)) || GLUE_REGISTRY_ARN.test(s), {
          message:
            'must be an http(s) URL (e.g. http://127.0.0.1:8081) or a Glue registry ARN (arn:aws:glue:<region>:<account>:registry/<name>)',
        }),
      ),
    ),
    /** put in front of every topic and consumer group name: lets several developers or test runs share a cluster */
    KAFKA_TOPIC_PREFIX: z._default(
      z.string().check(z.regex(/^[A-Za-z0-9._-]{0,100}$/, 'must be at most 100 characters of letters, digits, . _ -')),
      '',
    ),
    LOG_LEVEL: z._default(z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }), 'info'),
  })
  .check(
    z.superRefine((env, ctx) => {
      if (env.KAFKA_AUTH === 'scram' && !env.KAFKA_SASL_SECRET_ARN) {
        for (const name of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const) {
          if (!env[name]) {
            ctx.addIssue({
              code: 'custom',
              path: [name],
              message: 'is required when KAFKA_AUTH=scram (or set KAFKA_SASL_SECRET_ARN)',
            });
          }
        }
      }
      if (env.KAFKA_AUTH === 'iam' && !env.AWS_REGION && !env.MSK_CLUSTER_ARN) {
        ctx.addIssue({
          code: 'custom',
          path: ['AWS_REGION'],
          message: 'is required when KAFKA_AUTH=iam (or set MSK_CLUSTER_ARN)',
        });
      }
    }),
  );

export interface Config {
  kafka: {
    brokers: string[];
    clientId: string;
    auth: AuthMode;
    ssl: boolean;
    sasl?: { username: string; password: string };
    /** MSK_CLUSTER_ARN: when set, `brokers` is empty and the bootstrap brokers are discovered from the cluster */
    mskClusterArn?: string;
    /** the AWS region IAM tokens are signed for: the cluster's (from its ARN), else AWS_REGION */
    region?: string;
    /** KAFKA_SASL_SECRET_ARN: SCRAM credentials read from Secrets Manager at first connect */
    saslSecretArn?: string;
    /** KAFKA_SSL_CA_FILE: extra CA certificates (PEM file) to trust */
    sslCaFile?: string;
    connectionTimeoutMs: number;
    requestTimeoutMs: number;
  };
  publishTimeoutMs: number;
  maxBodyBytes: number;
  /** request-reply (lib/request-reply): reply timeout and the responder's reply-topic allow-list */
  requestReply: { replyTimeoutMs: number; allowedReplyTopics: string[] };
  /** POST /quotes's request and reply topics (QUOTE_REQUEST_TOPIC, QUOTE_REPLY_TOPIC, before KAFKA_TOPIC_PREFIX) and QUOTE_REPLY_PARTITION_FORMAT */
  quotes: { requestTopic: string; replyTopic: string; replyPartitionFormat: ReplyPartitionFormat };
  /** SCHEMA_REGISTRY_URL: where Avro schemas are registered (lib/schema-registry); unset: no function may publish Avro */
  schemaRegistryUrl?: string;
  /** KAFKA_TOPIC_PREFIX: prefix of every topic and consumer group name (see topicName in lib/kafka/topics.ts) */
  topicPrefix: string;
  logLevel: LogLevel;
}

/**
 * Read and validate the whole configuration from environment variables. Pure: pass the environment in.
 * Every problem is reported at once, each naming its variable.
 *
 * @example
 * const config = loadConfig(process.env);
 * config.kafka.brokers; // ['127.0.0.1:9092']
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  // empty strings count as unset, as a shell user expects from `FOO= cmd`
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = z.safeParse(ENV_SCHEMA, present);
  // checked here, not in the schema, so it is reported together with every other problem
  const brokersMissing =
    present.KAFKA_BROKERS || present.MSK_CLUSTER_ARN
      ? []
      : [
          'KAFKA_BROKERS is required (comma-separated host:port list, e.g. 127.0.0.1:9092) unless MSK_CLUSTER_ARN is set',
        ];
  if (!parsed.success || brokersMissing.length > 0) {
    throw new ConfigError([
      ...brokersMissing,
      ...(parsed.error?.issues ?? []).map((issue) => `${issue.path.join('.') || '(environment)'} ${issue.message}`),
    ]);
  }
  const e = parsed.data;
  return {
    kafka: {
      brokers: e.KAFKA_BROKERS ?? [],
      clientId: e.KAFKA_CLIENT_ID,
      auth: e.KAFKA_AUTH,
      // IAM auth on MSK is only offered over TLS, and so is SCRAM (MSK has no SASL_PLAINTEXT listener)
      ssl: e.KAFKA_SSL || e.KAFKA_AUTH === 'iam' || (e.KAFKA_AUTH === 'scram' && !!e.MSK_CLUSTER_ARN),
      sasl:
        e.KAFKA_AUTH === 'scram' && !e.KAFKA_SASL_SECRET_ARN
          ? { username: e.KAFKA_SASL_USERNAME!, password: e.KAFKA_SASL_PASSWORD! }
          : undefined,
      mskClusterArn: e.MSK_CLUSTER_ARN,
      region: (e.MSK_CLUSTER_ARN && MSK_CLUSTER_ARN.exec(e.MSK_CLUSTER_ARN)?.[2]) || e.AWS_REGION,
      saslSecretArn: e.KAFKA_AUTH === 'scram' ? e.KAFKA_SASL_SECRET_ARN : undefined,
      sslCaFile: e.KAFKA_SSL_CA_FILE,
      connectionTimeoutMs: e.KAFKA_CONNECTION_TIMEOUT_MS,
      requestTimeoutMs: e.KAFKA_REQUEST_TIMEOUT_MS,
    },
    publishTimeoutMs: e.PUBLISH_TIMEOUT_MS,
    maxBodyBytes: e.MAX_BODY_BYTES,
    requestReply: { replyTimeoutMs: e.REPLY_TIMEOUT_MS, allowedReplyTopics: e.REPLY_TOPICS_ALLOWED },
    quotes: {
      requestTopic: e.QUOTE_REQUEST_TOPIC,
      replyTopic: e.QUOTE_REPLY_TOPIC,
      replyPartitionFormat: e.QUOTE_REPLY_PARTITION_FORMAT,
    },
    schemaRegistryUrl: e.SCHEMA_REGISTRY_URL,
    topicPrefix: e.KAFKA_TOPIC_PREFIX,
    logLevel: e.LOG_LEVEL,
  };
}
