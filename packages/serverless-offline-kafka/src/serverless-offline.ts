/**
 * What this plugin knows of serverless-offline 13 and changes in it: its modules (loaded from its own
 * files, which it does not export), its timeout error, and two patches of its runtime objects.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { syncBuiltinESMExports } from 'node:module';
import { dirname, join } from 'node:path';
import workerThreads from 'node:worker_threads';
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

interface OfflineWorkerThreadRunnerClass {
  prototype: { run(event: unknown, context: unknown): Promise<unknown> };
}

const PORTS_PATCHED = Symbol.for('serverless-offline-kafka.workerPortFix');
const BuiltinMessageChannel = workerThreads.MessageChannel;
/** the channel the current `run` made, while it is being made */
let madeChannel: InstanceType<typeof BuiltinMessageChannel> | undefined;
class RecordedMessageChannel extends BuiltinMessageChannel {
  constructor() {
    super();
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the channel is what is recorded
    madeChannel = this;
  }
}

/**
 * serverless-offline 13's WorkerThreadRunner makes a MessageChannel for every invocation in worker
 * threads, listens on one end for the answer and never closes it, nor does the worker close the other
 * end: every invocation leaves a pair of open ports behind, with the listeners and everything they hold
 * (the promise, the event). Under sustained load that is about 10,000 ports a minute, and the main
 * thread's heap grows by hundreds of MB and slows down (npm run bench:soak).
 *
 * This closes the channel once the invocation's answer came (or it failed). `run` makes the channel
 * synchronously with `new MessageChannel()`, a named import of node:worker_threads: for the duration of
 * that synchronous part only, the builtin's export is a subclass that records the channel it made
 * (syncBuiltinESMExports carries the change to serverless-offline's ES module import, and back).
 * Patches the class's prototype, once per process.
 */
export function applyWorkerPortFix(WorkerThreadRunner: OfflineWorkerThreadRunnerClass): boolean {
  const proto = WorkerThreadRunner.prototype as OfflineWorkerThreadRunnerClass['prototype'] & {
    [PORTS_PATCHED]?: true;
  };
  if (proto[PORTS_PATCHED]) return true;
  const run = proto.run;
  if (typeof run !== 'function') return false;
  proto.run = function (this: typeof proto, event: unknown, context: unknown) {
    madeChannel = undefined;
    (workerThreads as { MessageChannel: typeof BuiltinMessageChannel }).MessageChannel = RecordedMessageChannel;
    syncBuiltinESMExports();
    let answer: Promise<unknown>;
    try {
      answer = run.call(this, event, context);
    } finally {
      (workerThreads as { MessageChannel: typeof BuiltinMessageChannel }).MessageChannel = BuiltinMessageChannel;
      syncBuiltinESMExports();
    }
    // set by RecordedMessageChannel during run (TypeScript cannot see that)
    const channel = madeChannel as InstanceType<typeof BuiltinMessageChannel> | undefined;
    madeChannel = undefined;
    const close = () => channel?.port1.close();
    answer.then(close, close);
    return answer;
  };
  proto[PORTS_PATCHED] = true;
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
  WorkerThreadRunner: OfflineWorkerThreadRunnerClass;
  defaultOptions: Record<string, unknown>;
  log: { error: (...args: unknown[]) => void } | undefined;
}> {
  const entry = require.resolve('serverless-offline');
  const importEsm = (specifier: string) => import(specifier) as Promise<{ default: unknown }>;
  const lambdaModule = await importEsm(pathToFileURL(join(dirname(entry), 'lambda', 'index.js')).href);
  const lambdaFunctionModule = await importEsm(pathToFileURL(join(dirname(entry), 'lambda', 'LambdaFunction.js')).href);
  const workerRunnerModule = await importEsm(
    pathToFileURL(join(dirname(entry), 'lambda', 'handler-runner', 'worker-thread-runner', 'WorkerThreadRunner.js'))
      .href,
  );
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
    WorkerThreadRunner: workerRunnerModule.default as OfflineWorkerThreadRunnerClass,
    defaultOptions: defaultsModule.default as Record<string, unknown>,
    log: logModule.log,
  };
}
