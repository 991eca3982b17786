import {
  decodeDeadline,
  decodeReplyPartition,
  decodeReplyStatus,
  encodeReplyPartition,
  lastHeader,
} from '../../../lib/request-reply/protocol';

describe('request-reply header codec', () => {
  test('reads the reply partition as Spring writes it (4-byte big-endian int32) and as NestJS does (decimal string)', () => {
    expect(decodeReplyPartition(encodeReplyPartition(0))).toBe(0);
    expect(decodeReplyPartition(encodeReplyPartition(11))).toBe(11);
    expect(decodeReplyPartition(encodeReplyPartition(70_000))).toBe(70_000);
    expect(decodeReplyPartition(Buffer.from('3'))).toBe(3);
    expect(decodeReplyPartition(Buffer.from('1234'))).toBe(1234);
  });

  test('writes the reply partition as a 4-byte int (Spring) by default, as text for a NestJS responder', () => {
    expect(encodeReplyPartition(7)).toEqual(Buffer.from([0, 0, 0, 7]));
    expect(encodeReplyPartition(7, 'decimal')).toEqual(Buffer.from('7'));
    expect(decodeReplyPartition(encodeReplyPartition(11, 'decimal'))).toBe(11);
  });

  test('refuses a reply partition that is neither: the responder then skips the request', () => {
    expect(decodeReplyPartition(Buffer.from('-1'))).toBeUndefined();
    expect(decodeReplyPartition(Buffer.from('two'))).toBeUndefined();
    expect(decodeReplyPartition(Buffer.from([0xff, 0xff, 0xff, 0xff]))).toBeUndefined();
    expect(decodeReplyPartition(Buffer.alloc(0))).toBeUndefined();
  });

  test('reads deadlines and statuses, and rejects malformed ones', () => {
    expect(decodeDeadline(Buffer.from('1763800000123'))).toBe(1763800000123);
    expect(decodeDeadline(Buffer.from('soon'))).toBeUndefined();
    expect(decodeDeadline(undefined)).toBeUndefined();
    expect(decodeReplyStatus(Buffer.from('200'))).toBe(200);
    expect(decodeReplyStatus(Buffer.from('422'))).toBe(422);
    expect(decodeReplyStatus(Buffer.from('42'))).toBeUndefined();
    expect(decodeReplyStatus(Buffer.from('700'))).toBeUndefined();
  });

  test('takes the last value of a repeated header, as bytes', () => {
    expect(lastHeader([Buffer.from('a'), 'b'])).toEqual(Buffer.from('b'));
    expect(lastHeader(undefined)).toBeUndefined();
  });
});
