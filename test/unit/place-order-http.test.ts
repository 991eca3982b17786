import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

/** Validation answers of POST /orders, without a broker: none of these requests may reach Kafka. */
describe('POST /orders input validation', () => {
  let handler: (
    event: unknown,
    context: Context,
  ) => Promise<{ statusCode: number; headers?: Record<string, string>; body: string }>;
  const publish = jest.fn();

  beforeAll(async () => {
    process.env.KAFKA_BROKERS = '127.0.0.1:1';
    process.env.LOG_LEVEL = 'silent';
    const { runtime } = await import('../../lib/runtime');
    runtime().publisher.publish = publish; // nothing here may publish
    ({ handler } = (await import('../../functions/place-order/handler')) as unknown as { handler: typeof handler });
  });

  const event = (body: string | undefined, headers: Record<string, string> = {}): APIGatewayProxyEventV2 =>
    ({
      version: '2.0',
      routeKey: 'POST /orders',
      rawPath: '/orders',
      rawQueryString: '',
      headers: { 'content-type': 'application/json', ...headers },
      requestContext: { requestId: 'r-1' },
      body,
      isBase64Encoded: false,
    }) as unknown as APIGatewayProxyEventV2;
  const context = { getRemainingTimeInMillis: () => 10_000 } as Context;
  const call = async (body: string | undefined, headers?: Record<string, string>) => {
    const response = await handler(event(body, headers), context);
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
});
