import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { handler as placeOrder } from '../../functions/place-order/handler';
import { createRuntime } from '../../lib/runtime';

/** Validation answers of POST /orders, without a broker: none of these requests may reach Kafka. */
describe('POST /orders input validation', () => {
  // the function on a runtime of its own whose publisher records every call: nothing here may publish
  const publish = jest.fn();
  const handler = placeOrder.withRuntime(
    createRuntime({
      env: { KAFKA_BROKERS: '127.0.0.1:1', LOG_LEVEL: 'silent' },
      publisher: { publish, disconnect: jest.fn() },
    }),
  ) as unknown as (
    event: unknown,
    context: Context,
  ) => Promise<{ statusCode: number; headers?: Record<string, string>; body: string }>;

  const event = (
    body: string | undefined,
    headers: Record<string, string> = {},
    isBase64Encoded = false,
  ): APIGatewayProxyEventV2 =>
    ({
      version: '2.0',
      routeKey: 'POST /orders',
      rawPath: '/orders',
      rawQueryString: '',
      headers: { 'content-type': 'application/json', ...headers },
      requestContext: { requestId: 'r-1' },
      body,
      isBase64Encoded,
    }) as unknown as APIGatewayProxyEventV2;
  const context = { getRemainingTimeInMillis: () => 10_000 } as Context;
  const call = async (body: string | undefined, headers?: Record<string, string>, isBase64Encoded?: boolean) => {
    const response = await handler(event(body, headers, isBase64Encoded), context);
    return { ...response, json: JSON.parse(response.body) };
  };

  afterEach(() => expect(publish).not.toHaveBeenCalled());

  it('answers 400 for malformed JSON, naming the problem', async () => {
    const res = await call('{"customerId": ');
    expect(res.statusCode).toBe(400);
    expect(res.json.error.code).toBe('VALIDATION_FAILED');
    expect(res.json.error.message).toMatch(/not valid JSON/);
  });

  it('answers 400 for an empty body', async () => {
    expect((await call(undefined)).statusCode).toBe(400);
  });

  it('answers 400 listing every missing field and wrong type with its path', async () => {
    const res = await call(JSON.stringify({ items: [{ sku: 'a', quantity: 'two', unitPriceCents: -1 }] }));
    expect(res.statusCode).toBe(400);
    const paths = res.json.error.details.map((d: { path: string }) => d.path).sort();
    expect(paths).toEqual(['customerId', 'items.0.quantity', 'items.0.unitPriceCents']);
  });

  it('answers 400 for unknown fields rather than silently dropping them', async () => {
    const res = await call(
      JSON.stringify({ customerId: 'c', items: [{ sku: 'a', quantity: 1, unitPriceCents: 1 }], extra: 1 }),
    );
    expect(res.statusCode).toBe(400);
    expect(res.json.error.message).toMatch(/extra/);
  });

  it('answers 413 for a body over the limit, before parsing it', async () => {
    const res = await call('x'.repeat(64 * 1024 + 1));
    expect(res.statusCode).toBe(413);
    expect(res.json.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: { size: 65537, limit: 65536 } });
  });

  it("echoes the caller's correlation id on errors, or makes one", async () => {
    const given = await call('nope', { 'X-Correlation-Id': 'abc-123' });
    expect(given.headers?.['x-correlation-id']).toBe('abc-123');
    expect(given.json.error.correlationId).toBe('abc-123');
    const made = await call('nope');
    expect(made.headers?.['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  const order = { customerId: 'c', items: [{ sku: 'a', quantity: 1, unitPriceCents: 1 }] };

  it('answers 415 for a content type that is not JSON, or a charset other than UTF-8', async () => {
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1']) {
      const res = await call(JSON.stringify(order), { 'content-type': contentType });
      expect({ contentType, status: res.statusCode, code: res.json.error.code }).toEqual({
        contentType,
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      });
      expect(res.json.error.message).toMatch(/application\/json|UTF-8/);
    }
  });

  it('accepts application/json with a charset and media types with the +json suffix', async () => {
    publish.mockResolvedValue([]);
    for (const contentType of ['Application/JSON; charset="UTF-8"', 'application/vnd.orders.v1+json']) {
      const res = await call(JSON.stringify(order), { 'content-type': contentType });
      expect({ contentType, status: res.statusCode }).toEqual({ contentType, status: 202 });
    }
    expect(publish).toHaveBeenCalledTimes(2);
    publish.mockReset(); // the other tests check that nothing was published
  });

  it('answers 400 for a body that is not UTF-8, naming the byte, instead of publishing it changed', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"customerId":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('","items":[]}'),
    ]);
    const base64 = await call(bytes.toString('base64'), {}, true);
    expect(base64.statusCode).toBe(400);
    expect(base64.json.error.message).toBe(
      'the request body is not valid UTF-8 (byte 15); send the JSON encoded in UTF-8',
    );
    // what serverless offline hands over: the text decoded with U+FFFD in place of the bad bytes
    const decoded = await call(bytes.toString('utf8'));
    expect(decoded.statusCode).toBe(400);
    expect(decoded.json.error.message).toMatch(/not valid UTF-8 \(byte 15\)/);
  });

  it('says once why a body is not JSON', async () => {
    const res = await call('nope');
    expect(res.json.error.message).toBe("the request body is not valid JSON (Unexpected token 'o')");
  });
});
