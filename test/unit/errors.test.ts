import { ValidationError, errorBody } from '../../lib/errors';

describe('errorBody', () => {
  it('is { error: { code, message, details?, correlationId? } }, leaving out what is absent', () => {
    expect(errorBody(new ValidationError('the request body is empty'))).toEqual({
      error: { code: 'VALIDATION_FAILED', message: 'the request body is empty' },
    });
    expect(errorBody(new ValidationError('bad', [{ path: 'a', message: 'm' }]), 'c-1')).toEqual({
      error: {
        code: 'VALIDATION_FAILED',
        message: 'bad',
        details: [{ path: 'a', message: 'm' }],
        correlationId: 'c-1',
      },
    });
  });

  it('never carries more than the four fields (no stack, no cause)', () => {
    const error = new ValidationError('bad', undefined, new Error('secret cause'));
    expect(Object.keys(errorBody(error, 'c').error).sort()).toEqual(['code', 'correlationId', 'message']);
  });
});
