import type { LogLevel } from './consumer-log';
import { EventSource } from './event-source';
import { forgetLoadedHandlers } from './handler-reload';
import { createSecretReader } from './secrets';
import { LambdaInvoker } from './invoker';
import { applyTimeoutRecovery, applyWorkerPortFix, loadOfflineModules, quietHandlerErrors } from './serverless-offline';
import { OutageTracker } from 'kafkajs-resilience';
import {
  applyMappingSettings,
  EVENT_SCHEMA_EXTENSION,
  findEventSourceMapping,
  MSK_ONLY_SCHEMA_EXTENSION,
} from './mapping';
import { AssignmentReport, formatInvocation } from './reports';
import {
  EVENT_KINDS,
  parseBrokers,
  readEventSettings,
  readPluginOptions,
  type EventSourceSettings,
  type PluginOptions,
  type ServiceContext,
} from './settings';

/** The key of this plugin's local-only options in serverless.yml `custom`. */
const CUSTOM_KEY = 'serverless-offline-kafka';
const PREFIX = 'kafka';

type RawEvent = Record<string, unknown>;

/** The parts of the Serverless Framework (v3 / osls) this plugin touches. */
interface Serverless {
  /** the folder of serverless.yml */
  serviceDir: string;
  service: {
    service: string;
    custom?: Record<string, unknown>;
    provider: {
      stage?: string;
      region?: string;
      environment?: Record<string, unknown>;
      compiledCloudFormationTemplate?: {
        Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
      };
    };
    getAllFunctions(): string[];
    getFunction(key: string): { name?: string; events?: Array<Record<string, unknown>> };
  };
  configSchemaHandler: {
    defineFunctionEventProperties(provider: string, event: string, schema: object): void;
  };
  getProvider(name: 'aws'): { naming: { getLambdaLogicalId(functionKey: string): string } };
}

interface LogUtils {
  log: { notice(m: string): void; warning(m: string): void; error(m: string): void };
}

/**
 * serverless-offline-kafka: runs every `msk` and `kafka` function event of serverless.yml under
 * `serverless offline`, against a real Kafka broker, the way an AWS Lambda event source mapping does;
 * and on `serverless package`/`deploy` writes the settings the framework cannot express
 * (retry controls, partial batch responses, destinations, window 0) into the generated mappings.
 */
export default class ServerlessOfflineKafka {
  readonly hooks: Record<string, () => unknown>;
  readonly #serverless: Serverless;
  readonly #cliOptions: Record<string, unknown>;
  readonly #log: LogUtils['log'];
  #sources: EventSource[] = [];
  #invoker: LambdaInvoker | undefined;
  #started = false;
  #stopping: Promise<void> | undefined;
  #contextRead: { options: PluginOptions; service: ServiceContext } | undefined;

  constructor(serverless: Serverless, cliOptions: Record<string, unknown>, utils?: LogUtils) {
    this.#serverless = serverless;
    this.#cliOptions = cliOptions ?? {};
    this.#log = utils?.log ?? {
      notice: (m) => console.error(m),
      warning: (m) => console.error(m),
      error: (m) => console.error(m),
    };
    serverless.configSchemaHandler.defineFunctionEventProperties('aws', 'msk', {
      properties: { ...EVENT_SCHEMA_EXTENSION, ...MSK_ONLY_SCHEMA_EXTENSION },
    });
    serverless.configSchemaHandler.defineFunctionEventProperties('aws', 'kafka', {
      properties: EVENT_SCHEMA_EXTENSION,
    });
    this.hooks = {
      // `serverless offline start`: after serverless-offline's own init (plugins run in listed order)
      'offline:start:init': () => this.start(),
      // `serverless offline`: its single hook never returns, so start before it
      'before:offline:start': () => this.start(),
      'before:offline:start:end': () => this.stop(),
      // serverless-esbuild rebuilt the handlers
      'offline:functionsUpdated:cleanup': () => this.reloadHandlers(),
      'after:package:compileEvents': () => this.writeCloudFormation(),
    };
  }

  /** every consumer's connection trouble, told once per outage (./outage.ts) */
  readonly #outage = new OutageTracker(
    (level, message) => this.#write(level === 'warn' ? 'warning' : 'notice', message),
    { hint: 'HTTP functions keep serving' },
  );

  #write(level: LogLevel, message: string): void {
    this.#log[level](`${PREFIX}: ${message}`);
  }

  /** The plugin's options and what it knows of the service, read once. */
  get #context(): { options: PluginOptions; service: ServiceContext } {
    if (this.#contextRead) return this.#contextRead;
    const { service } = this.#serverless;
    const provider = service.provider;
    this.#contextRead = {
      options: readPluginOptions(service.custom?.[CUSTOM_KEY]),
      service: {
        service: service.service,
        stage: String(this.#cliOptions.stage ?? provider.stage ?? 'dev'),
        region: String(this.#cliOptions.region ?? provider.region ?? 'us-east-1'),
        defaultBrokers: parseBrokers(process.env.KAFKA_BROKERS) ??
          parseBrokers(provider.environment?.KAFKA_BROKERS) ?? ['127.0.0.1:9092'],
      },
    };
    return this.#contextRead;
  }

  /** Every `msk` / `kafka` event of the service, read into local settings. */
  eventSettings(): EventSourceSettings[] {
    const { service } = this.#serverless;
    const { options, service: ctx } = this.#context;
    const settings: EventSourceSettings[] = [];
    for (const key of service.getAllFunctions()) {
      const fn = service.getFunction(key);
      for (const event of fn.events ?? []) {
        for (const kind of EVENT_KINDS) {
          const raw = event[kind];
          if (raw && typeof raw === 'object') {
            settings.push(readEventSettings(ctx, options, { key, name: fn.name }, kind, raw as RawEvent));
          }
        }
      }
    }
    return settings;
  }

  /** Start a consumer per enabled event, in the background: HTTP functions do not wait for Kafka. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const all = this.eventSettings();
    const { Lambda, LambdaFunction, WorkerThreadRunner, defaultOptions, log } = await loadOfflineModules();
    if (log) quietHandlerErrors(log);
    // HTTP functions too: an instance whose invocation timed out is replaced, not reused
    if (!applyTimeoutRecovery(LambdaFunction)) {
      this.#write('warning', 'this serverless-offline version is not the one the timeout recovery was written for');
    }
    // HTTP functions in worker threads too: each invocation's message channel is closed once it answered
    if (!applyWorkerPortFix(WorkerThreadRunner)) {
      this.#write('warning', 'this serverless-offline version is not the one the worker port fix was written for');
    }
    if (all.length === 0) return;
    const { service } = this.#serverless;
    const { options, service: ctx } = this.#context;
    // the option set serverless-offline builds for HTTP functions (defaults < custom < command line), and
    // where Kafka-triggered handlers run, when this plugin's useInProcess says so
    const offlineOptions = {
      ...defaultOptions,
      ...(service.custom?.['serverless-offline'] as Record<string, unknown> | undefined),
      ...this.#cliOptions,
      ...(options.useInProcess === undefined ? {} : { useInProcess: options.useInProcess }),
    };
    const lambdas = service.getAllFunctions().map((functionKey) => ({
      functionKey,
      functionDefinition: service.getFunction(functionKey),
    }));
    this.#invoker = new LambdaInvoker(() => {
      const lambda = new Lambda(this.#serverless, offlineOptions);
      lambda.create(lambdas);
      return lambda;
    });
    const invoker = this.#invoker;

    const enabled = all.filter((s) => s.enabled);
    for (const s of all.filter((x) => !x.enabled)) {
      this.#write('notice', `${s.functionKey} <- ${s.topic}: enabled: false, not consuming`);
    }
    const readSecret = createSecretReader({
      files: options.secrets,
      serviceDir: this.#serverless.serviceDir,
      region: ctx.region,
    });
    const assignments = new AssignmentReport(enabled, (message) => this.#write('notice', message));
    for (const settings of enabled) {
      const source = new EventSource({
        settings,
        options,
        region: ctx.region,
        clientId: `${service.service}-offline-kafka`,
        invoke: (functionKey, event) => invoker.invoke(functionKey, event),
        log: (level, message) => this.#write(level, message),
        outage: this.#outage,
        readSecret,
        onInvocation: (report) => this.#write(report.outcome === 'ok' ? 'notice' : 'warning', formatInvocation(report)),
        onAssigned: (partitions) => assignments.assigned(settings, partitions),
      });
      source.start();
      this.#sources.push(source);
    }
    // `serverless offline` (no `start`) exits inside its own hook; leave the groups on Ctrl-C there too
    process.once('SIGINT', () => void this.stop());
    process.once('SIGTERM', () => void this.stop());
  }

  /**
   * Handler code was rebuilt: the next invocations load it, in-process (HTTP functions too) and in
   * worker threads; invocations under way finish on the code they started with.
   */
  reloadHandlers(): void {
    forgetLoadedHandlers(this.#serverless.serviceDir);
    this.#invoker?.renew();
  }

  /** Leave every group cleanly and stop the worker threads. Safe to call more than once. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#sources.length === 0) return;
      this.#write('notice', 'stopping consumers');
      await Promise.all(this.#sources.map((s) => s.stop()));
      await this.#invoker?.close();
      this.#write('notice', 'consumers stopped, groups left');
    })();
    return this.#stopping;
  }

  /**
   * Write the settings serverless.yml cannot express for these events into the generated
   * AWS::Lambda::EventSourceMapping resources, so the ones configured once reach AWS too.
   */
  writeCloudFormation(): void {
    const template = this.#serverless.service.provider.compiledCloudFormationTemplate;
    if (!template) return;
    const naming = this.#serverless.getProvider('aws').naming;
    const { service } = this.#serverless;
    for (const key of service.getAllFunctions()) {
      const logicalId = naming.getLambdaLogicalId(key);
      for (const event of service.getFunction(key).events ?? []) {
        for (const kind of EVENT_KINDS) {
          const raw = event[kind] as RawEvent | undefined;
          if (!raw || typeof raw !== 'object') continue;
          const mapping = findEventSourceMapping(template.Resources, logicalId, kind, raw);
          if (mapping) applyMappingSettings(mapping.Properties, kind, raw, `function "${key}", ${kind} event`);
          else this.#write('warning', `no event source mapping found for ${key} ${kind} ${String(raw.topic)}`);
        }
      }
    }
  }
}
