import pino, { type Logger } from 'pino';
import { logLevel as KafkaLogLevel, type logCreator } from 'kafkajs';
import { kafkajsLogKind, type OutageSink } from 'kafkajs-resilience';
import type { LogLevel } from './config';

export type { Logger } from 'pino';

/**
 * The project's one structured JSON logger (pino: one JSON object per line on stdout, which CloudWatch
 * and `serverless offline` both show as is). Synchronous writes, so nothing is lost when Lambda freezes.
 */
export function createLogger(
  options: {
    level?: LogLevel;
    name?: string;
    base?: Record<string, unknown>;
    /** default stdout */
    destination?: pino.DestinationStream;
  } = {},
): Logger {
  const settings: pino.LoggerOptions<never> = {
    level: options.level ?? 'info',
    name: options.name,
    base: options.base ?? {},
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: serializeError },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

/**
 * pino's error serializer, except that `message` is the error's own: pino appends the message of every
 * `cause` to it, and this project's errors already say their cause ("is not JSON: <reason>"), so the
 * reason was printed twice. The causes stay in `stack`, each after "caused by:".
 */
function serializeError(error: Error): ReturnType<typeof pino.stdSerializers.err> {
  const serialized = pino.stdSerializers.err(error);
  if (error instanceof Error && serialized !== (error as unknown)) serialized.message = error.message;
  return serialized;
}

const KAFKA_TO_PINO = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
  [KafkaLogLevel.NOTHING]: 'silent',
} as const;

/**
 * Bridges kafkajs's own log lines into the project's logger (kafkajs `logCreator`). Lines that the caller
 * also gets as an error go to `debug`, so a failure is told once, where it ends, not once per attempt:
 * a consumer's crash notices (its CRASH event carries the error), a refused authentication, and every
 * failed attempt of an operation kafkajs retries (kafkajsLogKind). With an outage sink, kafkajs's lines
 * about an unreachable broker (one per connection attempt, per client) go to the sink, which tells the
 * outage once, and to `debug`; so do its other errors and warnings while the outage lasts.
 */
export function kafkaLogCreator(logger: Logger, outage?: OutageSink): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, logger: _name, ...extra } = log;
      let method: (typeof KAFKA_TO_PINO)[keyof typeof KAFKA_TO_PINO] =
        KAFKA_TO_PINO[level as keyof typeof KAFKA_TO_PINO] ?? 'info';
      if (method === 'silent') return;
      if (method === 'error' || method === 'warn') {
        const kind = kafkajsLogKind({ namespace, message, retryCount: extra.retryCount });
        if (kind === 'crash' || kind === 'refused' || kind === 'attempt') method = 'debug';
        else if (outage && kind === 'unreachable') {
          outage.failure(`kafkajs ${namespace}`, message, typeof extra.broker === 'string' ? extra.broker : undefined);
          method = 'debug';
        } else if (outage?.down) method = 'debug';
      }
      logger[method]({ component: 'kafkajs', namespace, ...extra }, message);
    };
}

/** kafkajs log level for the project's level: kafkajs logs every group join and connect at INFO, so those show only at debug. */
export function kafkaLogLevel(level: LogLevel): KafkaLogLevel {
  switch (level) {
    case 'trace':
    case 'debug':
      return KafkaLogLevel.INFO;
    case 'silent':
      return KafkaLogLevel.NOTHING;
    case 'info':
    case 'warn':
      return KafkaLogLevel.WARN;
    default:
      return KafkaLogLevel.ERROR;
  }
}
