import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { createLogger } from '../logger';
import { runtime, type Runtime } from '../runtime';
import { httpCorrelationId, httpErrorHandler, httpJsonBody, type HttpEvent, type HttpResult } from './middleware';

export type JsonHttpEvent<T> = HttpEvent<T> & { correlationId: string };

/** Used only when the configuration itself is broken, so that error is still logged as JSON. */
let fallbackLogger: Runtime['logger'] | undefined;

/**
 * A JSON-over-HTTP Lambda handler with the project's standard stack: correlation id, JSON errors,
 * body size limit and schema validation. `lambdaHandler` receives the validated body and the
 * per-container dependencies.
 *
 * @example
 * export const handler = jsonHttpHandler(OrderSchema, async (event, { publisher }) => jsonResponse(202, {}));
 */
export function jsonHttpHandler<S extends z.ZodType>(
  schema: S,
  lambdaHandler: (event: JsonHttpEvent<z.infer<S>>, deps: Runtime, context: Context) => Promise<HttpResult>,
) {
  const logger = () => {
    try {
      return runtime().logger;
    } catch {
      return (fallbackLogger ??= createLogger());
    }
  };
  return middy<HttpEvent<z.infer<S>>, HttpResult>()
    .use(httpCorrelationId())
    .use(httpErrorHandler({ logger }))
    .use(httpJsonBody({ schema, maxBytes: () => runtime().config.maxBodyBytes }))
    .handler((event, context) => lambdaHandler(event as JsonHttpEvent<z.infer<S>>, runtime(), context));
}
