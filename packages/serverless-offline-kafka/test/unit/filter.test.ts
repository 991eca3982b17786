import { createRecordFilter, matchesPattern } from '../../src/filter';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('EventBridge pattern matching', () => {
  it.each([
    [{ value: { type: ['order.created'] } }, { type: 'order.created' }, true],
    [{ value: { type: ['order.created'] } }, { type: 'order.cancelled' }, false],
    [{ value: { type: [{ prefix: 'order.' }] } }, { type: 'order.x' }, true],
    [{ value: { type: [{ suffix: '.created' }] } }, { type: 'order.created' }, true],
    [{ value: { type: [{ 'anything-but': ['ping'] }] } }, { type: 'ping' }, false],
    [{ value: { type: [{ 'anything-but': { prefix: 'int.' } }] } }, { type: 'ext.a' }, true],
    [{ value: { n: [{ numeric: ['>', 10, '<=', 20] }] } }, { n: 20 }, true],
    [{ value: { n: [{ numeric: ['>', 10] }] } }, { n: '11' }, false],
    [{ value: { gone: [{ exists: false }] } }, { here: 1 }, true],
    [{ value: { here: [{ exists: true }] } }, { here: 1 }, true],
    [{ value: { tags: ['red'] } }, { tags: ['blue', 'red'] }, true],
    [{ value: { s: [{ 'equals-ignore-case': 'ABC' }] } }, { s: 'abc' }, true],
    [{ value: { s: [{ wildcard: 'a*c' }] } }, { s: 'abbbc' }, true],
    [{ value: { a: { b: [1] } } }, { a: { b: 1 } }, true],
    [{ value: { $or: [{ a: [1] }, { b: [2] }] } }, { b: 2 }, true],
    [{ value: { $or: [{ a: [1] }, { b: [2] }] } }, { b: 3 }, false],
  ])('%j against %j is %s', (pattern, value, expected) => {
    expect(matchesPattern(pattern, { value })).toBe(expected);
  });
});

describe('createRecordFilter (Lambda Kafka filtering on value)', () => {
  it('passes everything without patterns', () => {
    expect(createRecordFilter({ patterns: [] })(b64('anything'))).toBe(true);
  });

  it('matches JSON values against JSON patterns and plain strings against string patterns; any pattern may match', () => {
    const filter = createRecordFilter({ patterns: [{ value: { type: ['a'] } }, { value: [{ prefix: 'hello' }] }] });
    expect(filter(b64('{"type":"a"}'))).toBe(true);
    expect(filter(b64('hello world'))).toBe(true);
    expect(filter(b64('{"type":"b"}'))).toBe(false);
    expect(filter(b64('bye'))).toBe(false);
    expect(filter('')).toBe(false);
  });

  it('accepts patterns given as JSON strings, as CloudFormation stores them', () => {
    expect(createRecordFilter({ patterns: ['{"value":{"type":["a"]}}'] })(b64('{"type":"a"}'))).toBe(true);
  });
});
