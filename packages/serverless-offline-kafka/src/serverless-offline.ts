/**
 * What this plugin knows of serverless-offline 13 and changes in it: its modules (loaded from its own
 * files, which it does not export), its timeout error, and two patches of its runtime objects.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** What this plugin uses of serverless-offline's `Lambda` (serverless-offline/lambda). */
export interface OfflineLambda {
  create(lambdas: Array<{ functionKey: string; functionDefinition: unknown }>): void;
  get(functionKey: string): { setEvent(event: unknown): void; runHandler(): Promise<unknown> };
  cleanup(): Promise<unknown>;
}

/** A timeout raised by serverless-offline's runner (LambdaTimeoutError, "[504] - Lambda timeout."). */
export function isLambdaTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'LambdaTimeoutError' || /Lambda timeout/.test(error.message));
}

/** Set while the event source invokes a handler: serverless-offline's own error dump is left out then. */
const KAFKA_INVOCATION = new AsyncLocalStorage<true>();

/** Run `invoke` as the event source's invocation (see quietHandlerErrors). */
export function runAsKafkaInvocation<T>(invoke: () => Promise<T>): Promise<T> {
  return KAFKA_INVOCATION.run(true, invoke);
}
const QUIETED = Symbol.for('serverless-offline-kafka.quietHandlerErrors');

/**
 * serverless-offline writes every exception a handler throws as "Unhandled exception in handler" plus
 * the error with its stack and causes, several lines per failed attempt. For a Kafka-triggered function
 * the event source already reports each attempt in one line (offsets, attempt, outcome, retry), so
 * during its invocations those two calls are left out; HTTP invocations are untouched. Patches the
 * `error` method of serverless-offline's own log object, once per process.
 */
export function quietHandlerErrors(log: { error: (...args: unknown[]) => void; [QUIETED]?: true }): void {
  if (log[QUIETED]) return;
  const error = log.error;
  log.error = (...args: unknown[]) => {
    if (KAFKA_INVOCATION.getStore()) return;
    error(...args);
  };
  log[QUIETED] = true;
}

interface OfflineLambdaFunctionClass {
  prototype: { runHandler(): Promise<unknown>; readonly status: string };
}

const TIMED_OUT = Symbol.for('serverless-offline-kafka.timedOut');
const PATCHED = Symbol.for('serverless-offline-kafka.timeoutFix');

/**
 * serverless-offline 13 terminates a function instance's worker thread when an invocation times out,
 * but keeps the instance in its pool as idle: every later request it is given waits on the dead thread
 * and times out too, until serverless offline restarts. For HTTP functions that means one slow request
 * (a breakpoint, a cold start on a busy machine) breaks that instance for good.
 *
 * This marks an instance whose invocation timed out and reports it as busy from then on, so the pool
 * never hands it out again and starts a fresh instance (a new worker, the handler loaded anew) instead,
 * as Lambda replaces a timed-out environment (the dead instance stays in the pool, holding no thread).
 * It patches serverless-offline's own LambdaFunction class (the same module instance its HTTP server
 * uses), once per process.
 */
export function applyTimeoutRecovery(LambdaFunction: OfflineLambdaFunctionClass): boolean {
  const proto = LambdaFunction.prototype as OfflineLambdaFunctionClass['prototype'] & {
    [PATCHED]?: true;
    [TIMED_OUT]?: true;
  };
  if (proto[PATCHED]) return true;
  const status = Object.getOwnPropertyDescriptor(proto, 'status')?.get;
  const runHandler = proto.runHandler;
  if (!status || typeof runHandler !== 'function') return false;
  Object.defineProperty(proto, 'status', {
    configurable: true,
    get(this: typeof proto) {
      return this[TIMED_OUT] ? 'BUSY' : (status.call(this) as string);
    },
  });
  proto.runHandler = async function (this: typeof proto) {
    try {
      return await runHandler.call(this);
    } catch (error) {
      if (isLambdaTimeout(error)) this[TIMED_OUT] = true;
      throw error;
    }
  };
  proto[PATCHED] = true;
  return true;
}

/**
 * serverless-offline's defaults, read from its own config: they are not exported, and the runner
 * must get the same option set serverless-offline built for HTTP functions (defaults, then
 * custom.serverless-offline, then command-line options).
 */
export async function loadOfflineModules(): Promise<{
  Lambda: new (serverless: unknown, options: Record<string, unknown>) => OfflineLambda;
  LambdaFunction: OfflineLambdaFunctionClass;
  defaultOptions: Record<string, unknown>;
  log: { error: (...args: unknown[]) => void } | undefined;
}> {
  const entry = require.resolve('serverless-offline');
  const importEsm = (specifier: string) => import(specifier) as Promise<{ default: unknown }>;
  const lambdaModule = await importEsm(pathToFileURL(join(dirname(entry), 'lambda', 'index.js')).href);
  const lambdaFunctionModule = await importEsm(pathToFileURL(join(dirname(entry), 'lambda', 'LambdaFunction.js')).href);
  const defaultsModule = await importEsm(pathToFileURL(join(dirname(entry), 'config', 'defaultOptions.js')).href).catch(
    () => ({ default: {} }),
  );
  const logModule = (await importEsm(pathToFileURL(join(dirname(entry), 'utils', 'log.js')).href).catch(
    () => ({}),
  )) as {
    log?: { error: (...args: unknown[]) => void };
  };
  return {
    Lambda: lambdaModule.default as new (serverless: unknown, options: Record<string, unknown>) => OfflineLambda,
    LambdaFunction: lambdaFunctionModule.default as OfflineLambdaFunctionClass,
    defaultOptions: defaultsModule.default as Record<string, unknown>,
    log: logModule.log,
  };
}
