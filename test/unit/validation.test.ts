import { z } from 'zod';
import { ValidationError } from '../../lib/errors';
import { parseJsonAs, type Issue } from '../../lib/validation';

const schema = z.strictObject({ productId: z.string(), quantity: z.number().int().positive() });
const fail = (message: string, details?: Issue[], cause?: unknown) => new ValidationError(message, details, cause);
const errorOf = (text: string, s: z.ZodType = schema) => {
  try {
    parseJsonAs(text, s, 'the request body', fail);
  } catch (error) {
    return error as ValidationError;
  }
  throw new Error('expected a failure');
};

describe('parseJsonAs', () => {
  it('returns the validated value', () => {
    expect(parseJsonAs('{"productId":"p-1","quantity":2}', schema, 'x', fail)).toEqual({
      productId: 'p-1',
      quantity: 2,
    });
  });

  it('says why a text is not JSON without echoing the input back', () => {
    const secret = 'card 4111111111111111 ' + 'x'.repeat(200);
    const error = errorOf(secret);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(/^the request body is not valid JSON \(Unexpected token/);
    expect(error.message).not.toContain('4111');
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });

  it('lists every schema problem with its path, the whole input as (root)', () => {
    const error = errorOf('{"quantity":0,"extra":1}');
    expect(error.details).toEqual([
      { path: 'productId', message: expect.any(String) },
      { path: 'quantity', message: expect.any(String) },
      { path: '(root)', message: expect.stringContaining('extra') },
    ]);
    expect(error.message).toMatch(/^the request body is invalid: productId: .*; quantity: .*; \(root\): /);
    expect(errorOf('[]').details).toEqual([{ path: '(root)', message: expect.any(String) }]);
  });
});
