import { isLambdaTimeout, runAsKafkaInvocation, type OfflineLambda } from './serverless-offline';

interface Generation {
  lambda: OfflineLambda;
  inFlight: number;
  retired: boolean;
}

/**
 * Invokes handlers through serverless-offline's own Lambda runner, so Kafka-triggered functions run
 * in the same worker threads, with the same environment, timeout and options as HTTP functions.
 *
 * The runner's pool cannot drop a single function instance. A timed-out instance is never handed out
 * again (applyTimeoutRecovery in ./serverless-offline, which covers HTTP functions too); on top of that, after a Kafka
 * invocation's timeout the invoker starts a new generation of the pool, so the retry runs in a fresh
 * worker with its module state reset, and it does the same when serverless-esbuild rebuilt the code.
 * The old generation is cleaned up once its in-flight invocations end.
 */
export class LambdaInvoker {
  #generation: Generation;
  readonly #createLambda: () => OfflineLambda;

  constructor(createLambda: () => OfflineLambda) {
    this.#createLambda = createLambda;
    this.#generation = { lambda: createLambda(), inFlight: 0, retired: false };
  }

  /** Run the function's handler with `event`, synchronously as Lambda does; resolves with its result. */
  async invoke(functionKey: string, event: unknown): Promise<unknown> {
    const generation = this.#generation;
    generation.inFlight += 1;
    try {
      const lambdaFunction = generation.lambda.get(functionKey);
      lambdaFunction.setEvent(event);
      // the event source reports a failed invocation itself, in one line (see quietHandlerErrors)
      return await runAsKafkaInvocation(() => lambdaFunction.runHandler());
    } catch (error) {
      if (isLambdaTimeout(error) && generation === this.#generation) this.renew();
      throw error;
    } finally {
      generation.inFlight -= 1;
      if (generation.retired && generation.inFlight === 0) void generation.lambda.cleanup().catch(() => undefined);
    }
  }

  /** Fresh worker threads (and freshly loaded handler code) for every invocation from now on. */
  renew(): void {
    const old = this.#generation;
    this.#generation = { lambda: this.#createLambda(), inFlight: 0, retired: false };
    old.retired = true;
    if (old.inFlight === 0) void old.lambda.cleanup().catch(() => undefined);
  }

  /** Stop every worker thread. */
  async close(): Promise<void> {
    this.#generation.retired = true;
    await this.#generation.lambda.cleanup().catch(() => undefined);
  }
}
