/**
 * msk-deploy: turns serverless.yml into an AWS stage on Amazon MSK, from the stage's parameter file
 * (deploy/params.<stage>.yml, loaded into `custom.deploy`). The `local` stage is left exactly as written.
 *
 * On `serverless package` / `deploy` of any other stage it:
 * - checks the parameters first and fails naming every wrong or missing one;
 * - runs the functions in the VPC, with the environment lib/config.ts reads on AWS
 *   (MSK_CLUSTER_ARN, KAFKA_AUTH, KAFKA_SASL_SECRET_ARN; no KAFKA_BROKERS: they are discovered);
 * - gives each function its own least-privilege role (deploy/iam.ts) and the mappings SCRAM auth;
 * - adds the `ensure-topics` custom resource that creates the declared topics during the deploy.
 */
import { settingsNeedingProvisionedMode } from 'serverless-offline-kafka/deploy';
import { loadConfig, type Config } from '../lib/config';
import { declaredTopics, topicName } from '../lib/kafka/topics';
import { applyFunctionRoles, type KafkaUse, type Resource, type Template } from './iam';
import { checkParams, type DeployParams } from './params';

export const LOCAL_STAGE = 'local';
export const ENSURE_TOPICS_FUNCTION = 'ensure-topics';
export const TOPICS_RESOURCE = 'KafkaTopics';

interface FunctionDefinition {
  name?: string;
  handler?: string;
  events?: unknown[];
  kafkaProduces?: string[];
  kafkaConsumes?: { topic: string; group: string }[];
  registersSchemas?: string[];
  environment?: Record<string, unknown>;
  [key: string]: unknown;
}

interface Serverless {
  service: {
    service: string;
    custom?: Record<string, unknown>;
    functions: Record<string, FunctionDefinition>;
    provider: {
      region?: string;
      environment?: Record<string, unknown>;
      vpc?: unknown;
      compiledCloudFormationTemplate: Template;
    };
  };
  classes: { Error: new (message: string) => Error };
  configSchemaHandler: { defineFunctionProperties(provider: string, schema: object): void };
  getProvider(name: 'aws'): {
    getStage(): string;
    getRegion(): string;
    naming: { getLambdaLogicalId(functionKey: string): string };
  };
}

export default class MskDeployPlugin {
  readonly hooks: Record<string, () => void>;
  readonly #serverless: Serverless;
  #params: DeployParams | undefined;

  constructor(serverless: Serverless) {
    this.#serverless = serverless;
    serverless.configSchemaHandler.defineFunctionProperties('aws', {
      properties: {
        // the topics a function publishes to: its role may write exactly these (IAM auth)
        kafkaProduces: { type: 'array', items: { type: 'string' } },
        // schemas a function registers in the stage's schema registry: on Glue its role may create and version exactly these
        registersSchemas: { type: 'array', items: { type: 'string' } },
        // topics a function reads with its own consumer, outside an event source mapping
        kafkaConsumes: {
          type: 'array',
          items: {
            type: 'object',
            properties: { topic: { type: 'string' }, group: { type: 'string' } },
            required: ['topic', 'group'],
            additionalProperties: false,
          },
        },
      },
    });
    this.hooks = {
      'before:package:initialize': () => this.prepareStage(),
      // after the framework and the other plugins wrote every mapping (including resources.extensions)
      'after:aws:package:finalize:mergeCustomProviderResources': () => this.completeTemplate(),
    };
  }

  get #aws() {
    return this.#serverless.getProvider('aws');
  }

  /** Validate the parameters and shape the service for AWS; the local stage is untouched. */
  prepareStage(): void {
    const stage = this.#aws.getStage();
    if (stage === LOCAL_STAGE) return;
    const { service } = this.#serverless;
    const file = `deploy/params.${stage}.yml`;
    const { params, problems } = checkParams(service.custom?.deploy, { stage, file, region: this.#aws.getRegion() });
    if (!params) {
      throw new this.#serverless.classes.Error(
        `invalid deployment parameters for stage "${stage}" (${file}):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
      );
    }
    this.#params = params;

    const environment = { ...service.provider.environment };
    // discovered from the cluster at cold start, and the local authentication settings (`npm start -- --secure`)
    for (const local of ['KAFKA_BROKERS', 'KAFKA_SSL', 'KAFKA_SSL_CA_FILE', 'KAFKA_SASL_SECRET_ARN'])
      delete environment[local];
    Object.assign(environment, { MSK_CLUSTER_ARN: params.mskClusterArn, KAFKA_AUTH: params.auth });
    if (params.saslScramSecretArn) environment.KAFKA_SASL_SECRET_ARN = params.saslScramSecretArn;
    service.provider.environment = environment;
    service.provider.vpc = { subnetIds: params.subnetIds, securityGroupIds: params.securityGroupIds };

    service.functions[ENSURE_TOPICS_FUNCTION] = {
      handler: 'deploy/ensure-topics.handler',
      name: `${service.service}-${stage}-${ENSURE_TOPICS_FUNCTION}`,
      description: 'Deploy-time custom resource: creates the Kafka topics of lib/kafka/topics.ts on MSK',
      timeout: 120,
      memorySize: 256,
      events: [],
    };
  }

  /**
   * AWS documents retry controls, partial batch responses and Kafka failure destinations for Kafka
   * mappings in provisioned mode only (kafka-retry-configurations, kafka-on-failure): without
   * `provisionedPollerConfig` the deploy would fail late in CloudFormation or lose the setting, so
   * `package` stops here, naming the function and the settings.
   */
  #requireProvisionedMode(resources: Template['Resources']): void {
    const problems: string[] = [];
    for (const [id, mapping] of Object.entries(resources)) {
      if (mapping.Type !== 'AWS::Lambda::EventSourceMapping') continue;
      const used = settingsNeedingProvisionedMode(mapping.Properties);
      if (used.length > 0) problems.push(`${id}: ${used.join(', ')}`);
    }
    if (problems.length > 0) {
      throw new this.#serverless.classes.Error(
        'these Kafka event settings need provisioned mode on AWS: add `provisionedPollerConfig: ' +
          '{ minimumPollers: 1, maximumPollers: <n> }` to the msk event (billed per event poller unit):\n' +
          problems.map((p) => `  - ${p}`).join('\n'),
      );
    }
  }

  /**
   * The configuration a function reads on AWS (lib/config.ts), from the provider's and the function's
   * environment as packaged: the same rules decide the topic names here as in the function.
   */
  #configOf(functionKey?: string): Config {
    const { provider, functions } = this.#serverless.service;
    const merged = { ...provider.environment, ...(functionKey ? functions[functionKey]?.environment : {}) };
    // values CloudFormation resolves at deploy time (Ref, Fn::*) are not read here
    const env = Object.fromEntries(
      Object.entries(merged).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
    try {
      return loadConfig(env);
    } catch (error) {
      const where = functionKey ? `function "${functionKey}"` : 'provider.environment';
      throw new this.#serverless.classes.Error(`${where}: ${(error as Error).message}`);
    }
  }

  /** The per-function roles, SCRAM on the mappings, and the topics custom resource. */
  completeTemplate(): void {
    const params = this.#params;
    if (!params) return; // local stage
    const { service } = this.#serverless;
    const template = service.provider.compiledCloudFormationTemplate;
    const resources = template.Resources;
    const naming = this.#aws.naming;
    const topics = declaredTopics(this.#configOf());

    const keyOf = new Map(Object.keys(service.functions).map((key) => [naming.getLambdaLogicalId(key), key]));
    const useOf = (logicalId: string): KafkaUse => {
      const key = keyOf.get(logicalId);
      const fn = key ? service.functions[key] : undefined;
      // a responder writes its replies to the topics its allow-list names (REPLY_TOPICS_ALLOWED), and nowhere else
      const config = key ? this.#configOf(key) : undefined;
      const replies = config ? config.requestReply.allowedReplyTopics.map((t) => topicName(config, t)) : [];
      return {
        produces: [...(fn?.kafkaProduces ?? []), ...replies],
        consumes: fn?.kafkaConsumes ?? [],
        creates: key === ENSURE_TOPICS_FUNCTION ? topics.map((t) => t.name) : [],
        registers: fn?.registersSchemas ?? [],
      };
    };

    const mappings = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
    this.#requireProvisionedMode(resources);
    if (params.auth === 'scram') {
      for (const mapping of mappings) {
        mapping.Properties!.SourceAccessConfigurations = [
          { Type: 'SASL_SCRAM_512_AUTH', URI: params.saslScramSecretArn },
        ];
      }
    }

    const { roles } = applyFunctionRoles(template, params, useOf);

    const topicsFunction = naming.getLambdaLogicalId(ENSURE_TOPICS_FUNCTION);
    resources[TOPICS_RESOURCE] = {
      Type: 'Custom::KafkaTopics',
      DependsOn: [roles[topicsFunction]!],
      Properties: {
        ServiceToken: { 'Fn::GetAtt': [topicsFunction, 'Arn'] },
        // fail the deploy within 5 minutes rather than CloudFormation's default hour
        ServiceTimeout: 300,
        // a changed declaration changes the properties, so CloudFormation sends an Update
        Topics: JSON.stringify(topics),
      },
    } satisfies Resource;
    // mappings start once their topics exist
    for (const mapping of mappings) {
      const dependsOn = mapping.DependsOn;
      mapping.DependsOn = [...(Array.isArray(dependsOn) ? dependsOn : dependsOn ? [dependsOn] : []), TOPICS_RESOURCE];
    }
  }
}
