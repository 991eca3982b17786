/**
 * EventBridge event-pattern matching, the language of Lambda's `FilterCriteria`
 * (docs: eb-event-patterns.html, eb-create-pattern-operators.html, kafka-filtering.html).
 *
 * Written here because no maintained EventBridge matcher is published on the npm registry this
 * project can reach (the one known, `eb-patterns`, is not there). Covered: exact values, `prefix`,
 * `suffix`, `equals-ignore-case`, `wildcard`, `anything-but` (values, prefix, suffix), `numeric`,
 * `exists`, `$or`, arrays in the event (any element matches). Not covered: `cidr`.
 */
type Pattern = Record<string, unknown>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function numericMatches(value: unknown, spec: unknown[]): boolean {
  if (typeof value !== 'number') return false;
  for (let i = 0; i + 1 < spec.length; i += 2) {
    const [op, bound] = [spec[i], Number(spec[i + 1])];
    const ok =
      op === '<'
        ? value < bound
        : op === '<='
          ? value <= bound
          : op === '='
            ? value === bound
            : op === '>'
              ? value > bound
              : op === '>='
                ? value >= bound
                : false;
    if (!ok) return false;
  }
  return true;
}

function wildcardMatches(value: string, pattern: string): boolean {
  const source = pattern
    .split(/(\\\*|\*)/)
    .map((part) => (part === '*' ? '.*' : part === '\\*' ? '\\*' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 's').test(value);
}

function anythingButMatches(value: unknown, spec: unknown): boolean {
  if (value === undefined) return false;
  if (isObject(spec)) {
    if (typeof spec.prefix === 'string') return typeof value === 'string' && !value.startsWith(spec.prefix);
    if (typeof spec.suffix === 'string') return typeof value === 'string' && !value.endsWith(spec.suffix);
    if (typeof spec['equals-ignore-case'] === 'string') {
      return typeof value === 'string' && value.toLowerCase() !== spec['equals-ignore-case'].toLowerCase();
    }
    return true;
  }
  const excluded = Array.isArray(spec) ? spec : [spec];
  return !excluded.some((e) => e === value);
}

/** One matcher of a leaf list against one scalar of the event (`undefined` = the field is absent). */
function leafMatches(matcher: unknown, value: unknown): boolean {
  if (!isObject(matcher)) return value !== undefined && matcher === value;
  if ('exists' in matcher) return matcher.exists === (value !== undefined);
  if (value === undefined) return false;
  if ('prefix' in matcher) {
    const p = matcher.prefix;
    if (isObject(p) && typeof p['equals-ignore-case'] === 'string') {
      return typeof value === 'string' && value.toLowerCase().startsWith(p['equals-ignore-case'].toLowerCase());
    }
    return typeof value === 'string' && typeof p === 'string' && value.startsWith(p);
  }
  if ('suffix' in matcher) {
    const s = matcher.suffix;
    if (isObject(s) && typeof s['equals-ignore-case'] === 'string') {
      return typeof value === 'string' && value.toLowerCase().endsWith(s['equals-ignore-case'].toLowerCase());
    }
    return typeof value === 'string' && typeof s === 'string' && value.endsWith(s);
  }
  if ('equals-ignore-case' in matcher) {
    return typeof value === 'string' && value.toLowerCase() === String(matcher['equals-ignore-case']).toLowerCase();
  }
  if ('wildcard' in matcher) return typeof value === 'string' && wildcardMatches(value, String(matcher.wildcard));
  if ('anything-but' in matcher) return anythingButMatches(value, matcher['anything-but']);
  if ('numeric' in matcher && Array.isArray(matcher.numeric)) return numericMatches(value, matcher.numeric);
  return false;
}

function fieldMatches(rule: unknown, value: unknown): boolean {
  if (Array.isArray(rule)) {
    // an array in the event matches when any of its elements does
    const values = Array.isArray(value) ? value : [value];
    return rule.some((m) => {
      if (isObject(m) && 'exists' in m) return leafMatches(m, value);
      return values.some((v) => leafMatches(m, v));
    });
  }
  if (isObject(rule)) {
    if (!isObject(value)) return Object.values(rule).every((r) => fieldMatches(r, undefined));
    return matchesPattern(rule, value);
  }
  return false;
}

/**
 * Does `data` match an EventBridge pattern? Every field of the pattern must match (AND); `$or` takes
 * any of its sub-patterns.
 *
 * @example
 * matchesPattern({ value: { type: ['order.created'] } }, { value: { type: 'order.created' } }); // true
 */
export function matchesPattern(pattern: Pattern, data: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, rule]) => {
    if (key === '$or' && Array.isArray(rule)) return rule.some((p) => isObject(p) && matchesPattern(p, data));
    return fieldMatches(rule, data[key]);
  });
}

/**
 * Lambda's Kafka filter: the record passes when any pattern matches its `value`, decoded from base64
 * then UTF-8, and parsed as JSON when it is JSON (kafka-filtering.html). No patterns = everything passes.
 */
export function createRecordFilter({ patterns }: { patterns: unknown[] }): (base64Value: string) => boolean {
  const parsed = patterns.map((p) => (typeof p === 'string' ? (JSON.parse(p) as unknown) : p)).filter(isObject);
  if (parsed.length === 0) return () => true;
  return (base64Value) => {
    const text = Buffer.from(base64Value, 'base64').toString('utf8');
    let value: unknown = text;
    try {
      value = JSON.parse(text);
    } catch {
      // a plain string value is matched as a string
    }
    return parsed.some((p) => matchesPattern(p, { value }));
  };
}
