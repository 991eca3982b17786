import type { InvocationReport } from './batch-delivery';
import { describeClusterAuth } from './cluster-auth';
import type { EventSourceSettings } from './settings';

/** One invocation in one line: `fulfil-order orders-3 offsets 40..49 (10 records) attempt 1 12 ms ok`. */
export function formatInvocation(r: InvocationReport): string {
  const offsets =
    r.firstOffset === r.lastOffset ? `offset ${r.firstOffset}` : `offsets ${r.firstOffset}..${r.lastOffset}`;
  return `${r.functionKey} ${r.partitionKey} ${offsets} (${r.records} records) attempt ${r.attempt} ${Math.round(r.durationMs)} ms ${r.outcome}`;
}

/**
 * Which partitions each consumer holds: one `ready:` line once every enabled event's consumer joined its
 * group (the line tests and scripts wait for), then one `rebalanced:` line per later assignment.
 */
export class AssignmentReport {
  readonly #enabled: EventSourceSettings[];
  readonly #say: (message: string) => void;
  readonly #assignments = new Map<EventSourceSettings, number[]>();
  #ready = false;

  constructor(enabled: EventSourceSettings[], say: (message: string) => void) {
    this.#enabled = enabled;
    this.#say = say;
  }

  assigned(settings: EventSourceSettings, partitions: number[]): void {
    this.#assignments.set(settings, partitions);
    if (this.#ready) {
      this.#say(`rebalanced: ${this.#describe(settings)}`);
    } else if (this.#assignments.size === this.#enabled.length) {
      this.#ready = true;
      const lines = this.#enabled.map((s) => this.#describe(s));
      this.#say(`ready: ${this.#enabled.length} consumer(s) hold their partitions: ${lines.join('; ')}`);
    }
  }

  #describe(s: EventSourceSettings): string {
    const partitions = this.#assignments.get(s)!;
    return `${s.functionKey} <- ${s.topic} [${partitions.join(',') || 'none'}] group ${s.groupId} over ${describeClusterAuth(s.auth)}`;
  }
}
