/**
 * Least-privilege IAM, one role per function, derived from what the packaged template and serverless.yml
 * say each function does: the topics and groups of its event source mappings (and their Kafka failure
 * destination), the topics it declares it writes (`kafkaProduces`) or reads itself (`kafkaConsumes`).
 * A new Kafka-triggered function is covered without editing anything here. No `*` on kafka-cluster.
 *
 * Actions: docs.aws.amazon.com/lambda/latest/dg/with-msk-permissions.html (mapping role) and
 * docs.aws.amazon.com/msk/latest/developerguide/iam-access-control.html (topic/group resources).
 */
import { mappingKafkaDestinationTopic, mappingSchemaRegistry } from 'serverless-offline-kafka/deploy';
import { GLUE_REGISTRY_ARN } from '../lib/aws-patterns';
import { clusterParts, type DeployParams } from './params';

type Json = Record<string, unknown>;
export interface Resource {
  Type: string;
  Properties?: Json;
  DependsOn?: string | string[];
  [key: string]: unknown;
}
export interface Template {
  Resources: Record<string, Resource>;
}

export interface Statement {
  Effect: 'Allow';
  Action: string[];
  Resource: unknown;
}

/** What a function does with Kafka besides its triggers, declared on the function in serverless.yml. */
export interface KafkaUse {
  /** topics the function publishes to */
  produces: string[];
  /** topics it reads with its own consumer (e.g. request-reply); group may end in * (a prefix) */
  consumes: { topic: string; group: string }[];
  /** topics it creates (the deploy-time topic custom resource) */
  creates: string[];
  /** schemas it registers in the stage's schema registry (lib/schema-registry) */
  registers: string[];
}

export const DEFAULT_ROLE = 'IamRoleLambdaExecution';

/** ARNs of a cluster's topics and groups: arn:aws:kafka:<region>:<acct>:topic/<cluster>/<uuid>/<topic>. */
export function kafkaArns(clusterArn: string) {
  const c = clusterParts(clusterArn);
  const base = (kind: string) => `arn:${c.partition}:kafka:${c.region}:${c.account}:${kind}/${c.name}/${c.uuid}`;
  return {
    cluster: clusterArn,
    topic: (name: string) => `${base('topic')}/${name}`,
    group: (name: string) => `${base('group')}/${name}`,
  };
}

/** The function a mapping triggers: FunctionName is { Fn::GetAtt: [<logical id>, Arn] } or a Ref. */
function mappingTarget(mapping: Resource): string | undefined {
  const name = mapping.Properties?.FunctionName as { 'Fn::GetAtt'?: [string, string]; Ref?: string } | undefined;
  return name?.['Fn::GetAtt']?.[0] ?? name?.Ref;
}

const sorted = (values: Iterable<string>) => [...new Set(values)].sort();

/** The ARN of schema `name` (or `*`) in the Glue registry `registryArn`. */
function glueSchemaArn(registryArn: string, name: string): string {
  const [, partition, region, account, registry] = GLUE_REGISTRY_ARN.exec(registryArn)!;
  return `arn:${partition}:glue:${region}:${account}:schema/${registry}/${name}`;
}

/**
 * What the mappings' schema registries need from the function's role (Lambda reads them with it,
 * docs.aws.amazon.com/lambda/latest/dg/services-consume-kafka-events.html): a Glue registry, reading the
 * registry and its schemas' versions; a Confluent registry, reading the secrets of its access configs.
 */
function registryStatements(mappings: Resource[]): Statement[] {
  const registries = mappings.map((m) => mappingSchemaRegistry(m.Properties)).filter((r) => r !== undefined);
  const glue = sorted(registries.map((r) => r.uri).filter((uri) => GLUE_REGISTRY_ARN.test(uri)));
  const secrets = sorted(registries.flatMap((r) => r.secretArns));
  const statements: Statement[] = [];
  if (glue.length > 0) {
    const schemas = glue.map((arn) => glueSchemaArn(arn, '*'));
    statements.push({ Effect: 'Allow', Action: ['glue:GetRegistry'], Resource: glue });
    statements.push({ Effect: 'Allow', Action: ['glue:GetSchemaVersion'], Resource: [...glue, ...schemas] });
  }
  if (secrets.length > 0) {
    statements.push({ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: secrets });
  }
  return statements;
}

/**
 * A function that registers its schemas in a Glue registry (lib/schema-registry/registries.ts: CreateSchema
 * the first time, RegisterSchemaVersion after) may do so for exactly those schemas. A Confluent registry
 * authorizes with its own credentials, not IAM.
 */
function schemaWriterStatements(schemas: string[], params: DeployParams): Statement[] {
  const registry = params.schemaRegistryUrl;
  if (!GLUE_REGISTRY_ARN.test(registry) || schemas.length === 0) return [];
  const schemaArns = sorted(schemas).map((name) => glueSchemaArn(registry, name));
  return [
    {
      Effect: 'Allow',
      Action: ['glue:CreateSchema', 'glue:RegisterSchemaVersion'],
      Resource: [registry, ...schemaArns],
    },
  ];
}

/** The statements of one function's role. */
export function functionStatements(input: {
  functionName: string;
  mappings: Resource[];
  use: KafkaUse;
  params: DeployParams;
}): Statement[] {
  const { params, use, mappings } = input;
  const arns = kafkaArns(params.mskClusterArn);
  const statements: Statement[] = [
    {
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: {
        'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${input.functionName}:*`,
      },
    },
    // Lambda in a VPC manages its network interfaces; EC2 offers no resource-level scoping for these
    {
      Effect: 'Allow',
      Action: [
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
        ...(mappings.length > 0 ? ['ec2:DescribeVpcs', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups'] : []),
      ],
      Resource: '*',
    },
    // the mapping describes the cluster; the function's own client discovers its brokers (lib/kafka/msk.ts)
    { Effect: 'Allow', Action: ['kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers'], Resource: arns.cluster },
  ];

  const readTopics = sorted([
    ...mappings.flatMap((m) => m.Properties?.Topics as string[]),
    ...use.consumes.map((c) => c.topic),
  ]);
  const groups = sorted([
    ...mappings
      .map(
        (m) =>
          (m.Properties?.AmazonManagedKafkaEventSourceConfig as { ConsumerGroupId?: string } | undefined)
            ?.ConsumerGroupId,
      )
      .filter((g): g is string => !!g),
    ...use.consumes.map((c) => c.group),
  ]);
  const writeTopics = sorted([
    ...use.produces,
    ...mappings.map((m) => mappingKafkaDestinationTopic(m.Properties)).filter((t): t is string => !!t),
  ]);

  statements.push(...registryStatements(mappings), ...schemaWriterStatements(use.registers, params));

  if (params.auth === 'iam') {
    // the project's producers are not idempotent (lib/kafka/producer.ts), so no WriteDataIdempotently;
    // add it here if that changes, or MSK refuses their InitProducerId
    const cluster: string[] = ['kafka-cluster:Connect'];
    statements.push({ Effect: 'Allow', Action: cluster, Resource: arns.cluster });
    if (readTopics.length > 0) {
      statements.push({
        Effect: 'Allow',
        Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
        Resource: readTopics.map(arns.topic),
      });
    }
    if (groups.length > 0) {
      statements.push({
        Effect: 'Allow',
        Action: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'],
        Resource: groups.map(arns.group),
      });
    }
    if (writeTopics.length > 0) {
      statements.push({
        Effect: 'Allow',
        Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
        Resource: writeTopics.map(arns.topic),
      });
    }
    if (use.creates.length > 0) {
      statements.push({
        Effect: 'Allow',
        Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:CreateTopic'],
        Resource: sorted(use.creates).map(arns.topic),
      });
    }
  } else {
    // SCRAM: the broker's ACLs authorize topics and groups; IAM only guards the secret
    statements.push({
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: params.saslScramSecretArn,
    });
    if (params.saslScramKmsKeyArn) {
      statements.push({ Effect: 'Allow', Action: ['kms:Decrypt'], Resource: params.saslScramKmsKeyArn });
    }
  }
  return statements;
}

/**
 * Give every function of the template its own role with exactly its statements, point its mappings'
 * DependsOn at that role (a mapping is validated against the role when created), and drop the
 * framework's shared role once nothing uses it.
 */
export function applyFunctionRoles(
  template: Template,
  params: DeployParams,
  useOf: (functionLogicalId: string) => KafkaUse,
): { roles: Record<string, string> } {
  const resources = template.Resources;
  const roles: Record<string, string> = {};
  const functions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
  for (const [logicalId, fn] of functions) {
    const mappings = Object.values(resources).filter(
      (r) => r.Type === 'AWS::Lambda::EventSourceMapping' && mappingTarget(r) === logicalId,
    );
    const roleId = `${logicalId.replace(/LambdaFunction$/, '')}IamRole`;
    const functionName = String(fn.Properties?.FunctionName);
    resources[roleId] = {
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: ['lambda.amazonaws.com'] }, Action: ['sts:AssumeRole'] },
          ],
        },
        Policies: [
          {
            PolicyName: 'function',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: functionStatements({ functionName, mappings, use: useOf(logicalId), params }),
            },
          },
        ],
      },
    };
    fn.Properties = { ...fn.Properties, Role: { 'Fn::GetAtt': [roleId, 'Arn'] } };
    // (the GetAtt already orders the function after its role)
    if (fn.DependsOn) fn.DependsOn = toList(fn.DependsOn).filter((d) => d !== DEFAULT_ROLE);
    for (const mapping of mappings) {
      mapping.DependsOn = [...toList(mapping.DependsOn).filter((d) => d !== DEFAULT_ROLE), roleId];
    }
    roles[logicalId] = roleId;
  }
  const rest = { ...resources };
  delete rest[DEFAULT_ROLE];
  if (resources[DEFAULT_ROLE] && !JSON.stringify(rest).includes(`"${DEFAULT_ROLE}"`)) delete resources[DEFAULT_ROLE];
  return { roles };
}

function toList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
