import * as z from './zod';

/** One problem of an input, with where it is: `items.0.quantity`, or `(root)` for the input as a whole. */
export interface Issue {
  path: string;
  message: string;
}

/** How the input as a whole is named in an issue's path. */
export const ROOT_PATH = '(root)';

/**
 * Parse `text` as JSON and validate it against `schema`: the one rule for HTTP bodies, Kafka records and
 * request-reply requests. Errors come from `fail` (the caller's error class), with messages
 * `<subject> is not valid JSON (<reason>)` and `<subject> is invalid: <path>: <message>; ...`, every
 * schema problem listed in `details`. The input is never echoed back: V8's JSON errors quote it, and it
 * may be large or private, so only the reason is kept.
 *
 * @example
 * parseJsonAs('{"quantity":0}', QuoteSchema, 'the request body', (m, d, c) => new ValidationError(m, d, c));
 * // ValidationError: the request body is invalid: productId: Invalid input: expected string, received undefined; ...
 */
export function parseJsonAs<S extends z.Schema>(
  text: string,
  schema: S,
  subject: string,
  fail: (message: string, details?: Issue[], cause?: unknown) => Error,
): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw fail(`${subject} is not valid JSON (${jsonErrorReason(error)})`, undefined, error);
  }
  const parsed = z.safeParse(schema, json);
  if (!parsed.success) {
    const details = parsed.error.issues.map((i) => ({ path: i.path.join('.') || ROOT_PATH, message: i.message }));
    throw fail(`${subject} is invalid: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`, details);
  }
  return parsed.data;
}

/** JSON.parse's reason without V8's echo of the input (`…, "<input>" is not valid JSON`, cut with `...` when long). */
export function jsonErrorReason(error: unknown): string {
  return String((error as Error)?.message ?? error).replace(/, ".*"(\.\.\.)? is not valid JSON$/s, '');
}
