import { isBrokerUnreachable } from './unreachable';

/**
 * Telling a broker outage once, not once per attempt. Every Kafka client of a process reports to one
 * tracker: its failures (`failure`), its successes (`success`), and the requests refused meanwhile
 * (`refused`). The tracker says three things, through `report`:
 *
 * - at the first failure: one `warn` naming the broker, what is affected and why;
 * - while it lasts: a `warn` summary at most every `summaryEveryMs` (default 10 s), when something happens;
 * - at the first success after it: one `info` saying how long Kafka was away and what was refused.
 *
 * It has no timer of its own: a summary is due only when there is news (a failure or a refusal).
 * Used by a deployed function's clients and by the local event source alike, so a log group and a
 * terminal show the same three lines.
 */
export type OutageReport = (level: 'warn' | 'info', message: string, fields: Record<string, unknown>) => void;

/** What a client tells about its connection to the broker (an OutageTracker, or a test's fake). */
export interface OutageSink {
  /** true while an outage is being told */
  readonly down: boolean;
  failure(what: string, error: unknown, broker?: string): void;
  success(what: string): void;
  refused(): void;
}

export interface OutageOptions {
  summaryEveryMs?: number;
  now?: () => number;
  /** said at the end of the first line, e.g. what keeps working meanwhile */
  hint?: string;
}

interface Outage {
  since: number;
  lastSummary: number;
  failures: number;
  refused: number;
  affected: Set<string>;
  broker: string | undefined;
}

/**
 * Tell a client's failure where it belongs: an unreachable broker (isBrokerUnreachable) to the outage
 * sink, which tells it once per outage; anything else back to the caller, to log on a line of its own.
 * True when the sink took it.
 *
 * @example
 * if (!reportKafkaFailure(outage, 'producer', error)) logger.warn({ err: error }, 'publish failed');
 */
export function reportKafkaFailure(
  outage: OutageSink | undefined,
  what: string,
  error: unknown,
  broker?: string,
): boolean {
  if (!outage || !isBrokerUnreachable(error)) return false;
  outage.failure(what, error, broker);
  return true;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export class OutageTracker implements OutageSink {
  readonly #report: OutageReport;
  readonly #summaryEveryMs: number;
  readonly #now: () => number;
  readonly #hint: string;
  #outage: Outage | undefined;

  constructor(report: OutageReport, options: OutageOptions = {}) {
    this.#report = report;
    this.#summaryEveryMs = options.summaryEveryMs ?? 10_000;
    this.#now = options.now ?? Date.now;
    this.#hint = options.hint ? ` (${options.hint})` : '';
  }

  /** true while an outage is being tracked */
  get down(): boolean {
    return this.#outage !== undefined;
  }

  /** `what` (a client: "producer", "reply listener", "fulfil-order <- orders") could not reach the broker. */
  failure(what: string, error: unknown, broker?: string): void {
    const now = this.#now();
    const outage = this.#outage;
    if (!outage) {
      this.#outage = { since: now, lastSummary: now, failures: 1, refused: 0, affected: new Set([what]), broker };
      const reason = error instanceof Error ? error.message : String(error);
      this.#report(
        'warn',
        `Kafka unreachable${broker ? ` at ${broker}` : ''}: ${what} failed (${reason}); ` +
          `retrying quietly, a summary at most every ${Math.round(this.#summaryEveryMs / 1000)} s${this.#hint}`,
        { event: 'kafka.unreachable', broker, affected: [what], reason },
      );
      return;
    }
    outage.failures += 1;
    outage.affected.add(what);
    outage.broker ??= broker;
    this.#summarise(now);
  }

  /** A request was refused (503/504) because Kafka could not be reached. */
  refused(): void {
    const outage = this.#outage;
    if (!outage) return;
    outage.refused += 1;
    this.#summarise(this.#now());
  }

  /** `what` reached the broker: ends the outage, if there was one. */
  success(_what: string): void {
    const outage = this.#outage;
    if (!outage) return;
    this.#outage = undefined;
    const downForMs = this.#now() - outage.since;
    this.#report(
      'info',
      `Kafka reachable again after ${seconds(downForMs)}` +
        (outage.refused > 0 ? ` (${outage.refused} request(s) refused meanwhile)` : ''),
      {
        event: 'kafka.reachable',
        broker: outage.broker,
        downForMs,
        failures: outage.failures,
        refused: outage.refused,
        affected: [...outage.affected],
      },
    );
  }

  #summarise(now: number): void {
    const outage = this.#outage!;
    if (now - outage.lastSummary < this.#summaryEveryMs) return;
    outage.lastSummary = now;
    const downForMs = now - outage.since;
    this.#report(
      'warn',
      `Kafka still unreachable after ${seconds(downForMs)}: ${outage.failures} failed attempt(s)` +
        (outage.refused > 0 ? `, ${outage.refused} request(s) refused` : ''),
      {
        event: 'kafka.still-unreachable',
        broker: outage.broker,
        downForMs,
        failures: outage.failures,
        refused: outage.refused,
        affected: [...outage.affected],
      },
    );
  }
}
