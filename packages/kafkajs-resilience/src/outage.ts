import { brokerRefusal, isBrokerUnreachable, type BrokerRefusal } from './unreachable';

/**
 * Telling a broker outage once, not once per attempt. Every Kafka client of a process reports to one
 * tracker: its failures (`failure`), its successes (`success`), and the requests refused meanwhile
 * (`refused`). The tracker says three things, through `report`:
 *
 * - at the first failure: one `warn` naming the broker, what is affected and why;
 * - while it lasts: a `warn` summary at most every `summaryEveryMs` (default 10 s), when something happens;
 * - at the first success after it: one `info` saying how long Kafka was away and what was refused.
 *
 * A broker that refuses the client (wrong credentials, an untrusted certificate: brokerRefusal) is told
 * the same way, in its own words and with what to fix: for the client it is an outage too, which ends
 * when the settings are right.
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
  /** why, as the first failure said: the broker is away, or it refused the client */
  refusal: BrokerRefusal['kind'] | undefined;
}

/** What to fix when the broker refuses the client, by brokerRefusal's kinds. */
const REFUSAL_FIX = {
  credentials: 'check the SASL username and password (or the secret holding them)',
  certificate: "trust the CA that signed the broker's certificate",
  'client-certificate': 'use a client certificate signed by a CA the broker trusts',
} as const;

/**
 * Tell a client's failure where it belongs: an unreachable or refusing broker (isBrokerUnreachable,
 * brokerRefusal) to the outage sink, which tells it once per outage; anything else back to the caller, to log on a line of its own.
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
  if (!outage || (!isBrokerUnreachable(error) && !brokerRefusal(error))) return false;
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
      const refusal = brokerRefusal(error);
      this.#outage = {
        since: now,
        lastSummary: now,
        failures: 1,
        refused: 0,
        affected: new Set([what]),
        broker,
        refusal: refusal?.kind,
      };
      const reason = error instanceof Error ? error.message : String(error);
      const at = broker ? ` at ${broker}` : '';
      const quietly = `retrying quietly, a summary at most every ${Math.round(this.#summaryEveryMs / 1000)} s${this.#hint}`;
      if (refusal) {
        const fix = REFUSAL_FIX[refusal.kind];
        this.#report('warn', `Kafka${at} refused the ${what} (${refusal.message}): ${fix}; ${quietly}`, {
          event: 'kafka.refused',
          broker,
          affected: [what],
          reason: refusal.message,
          refusal: refusal.kind,
        });
        return;
      }
      this.#report('warn', `Kafka unreachable${at}: ${what} failed (${reason}); ${quietly}`, {
        event: 'kafka.unreachable',
        broker,
        affected: [what],
        reason,
      });
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
      `Kafka still ${outage.refusal ? 'refusing the client' : 'unreachable'} after ${seconds(downForMs)}: ` +
        `${outage.failures} failed attempt(s)` +
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
