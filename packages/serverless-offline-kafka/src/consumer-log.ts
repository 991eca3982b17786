import { logLevel, type logCreator } from 'kafkajs';
import { kafkajsLogKind } from 'kafkajs-resilience';

/** The plugin's log levels (the Serverless Framework's `log.notice`, `log.warning`, `log.error`). */
export type LogLevel = 'notice' | 'warning' | 'error';

const KAFKA_LOG_LEVELS: Record<number, LogLevel> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warning',
  [logLevel.INFO]: 'notice',
};

// Retriable answers of a broker that is still starting: it creates __consumer_offsets on the first
// FindCoordinator and answers COORDINATOR_NOT_AVAILABLE meanwhile, and partitions may be between
// leaders (https://kafka.apache.org/protocol#protocol_error_codes). kafkajs logs each at ERROR, with
// the answer's message only, then retries it itself; a lasting failure still reaches the start loop.
const STILL_STARTING =
  /group coordinator is not available|coordinator is loading|not the correct coordinator|no leader for this topic-partition|not the leader for that topic-partition/;
/** one "waiting" line per process, however many event sources wait */
let waitingReported = false;

/** What the log lines of one event source's kafkajs clients depend on. */
export interface ConsumerLogContext {
  /** "fulfil-order <- orders" */
  name: string;
  /** the event source is stopping: kafkajs's complaints about it are expected */
  stopping(): boolean;
  /** the consumer joined its group once: from then on a coordinator error is news, not start-up */
  joined(): boolean;
  log(level: LogLevel, message: string): void;
}

/**
 * kafkajs's log lines of one event source, in the plugin's words (a kafkajs `logCreator`). An unreachable
 * broker and a refused authentication are left to the start loop and a crash to the CRASH listener,
 * which report them with their errors (a refusal once, with what to fix: ./cluster-auth, authProblem); a broker that is still starting is said once per process, dimmed; the rest is passed on,
 * prefixed with the event source's name.
 */
export function consumerLogCreator(context: ConsumerLogContext): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, error } = log as { message: string; error?: string };
      if (context.stopping()) return;
      const kind = kafkajsLogKind({ namespace, message });
      if (kind === 'unreachable' || kind === 'crash' || kind === 'refused') return;
      if (!context.joined() && error && STILL_STARTING.test(error)) {
        if (waitingReported) return;
        waitingReported = true;
        const text = `waiting for the group coordinator: the broker is still starting (${error})`;
        // dim, like the framework's own asides, where the terminal shows it
        context.log('notice', process.stderr.isTTY && !process.env.NO_COLOR ? `\x1b[2m${text}\x1b[22m` : text);
        return;
      }
      context.log(
        KAFKA_LOG_LEVELS[level] ?? 'notice',
        `${context.name}: kafkajs: ${message}${error ? ` (${error})` : ''}`,
      );
    };
}
