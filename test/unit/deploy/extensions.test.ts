/**
 * Every event source setting that serverless.yml cannot express reaches AWS::Lambda::EventSourceMapping
 * (written by the event source plugin, packages/serverless-offline-kafka), and the deploy plugin's IAM follows them: a fixture
 * service (test/unit/deploy/fixture) uses them all, since the project's functions use only some.
 */
import { join } from 'node:path';
import { kafkaArns } from '../../../deploy/iam';
import { packageStage, type Packaged } from './package';
import { cfnLint, expectMappingsMatchEvents, mskMappings } from './template-checks';

let pkg: Packaged;
const GLUE_REGISTRY = 'arn:aws:glue:eu-west-1:123456789012:registry/fixture-registry';
const REGISTRY_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:registry-login-AbCdEf';

/** The Properties of function `key`'s one mapping. */
const mappingOf = (key: string) => mskMappings(pkg).find((m) => m.key === key)!.mappings[0]!.Properties;

/** The statements of function `key`'s own role. */
function statementsOf(key: string): { Effect: string; Action: string[]; Resource: unknown }[] {
  const resources = pkg.template!.Resources;
  const fn = Object.values(resources).find(
    (r) => r.Type === 'AWS::Lambda::Function' && String(r.Properties.FunctionName).endsWith(`-${key}`),
  )!;
  const role = (fn.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
  return (
    resources[role]!.Properties.Policies as {
      PolicyDocument: { Statement: { Effect: string; Action: string[]; Resource: unknown }[] };
    }[]
  ).flatMap((p) => p.PolicyDocument.Statement);
}

beforeAll(() => {
  pkg = packageStage('fixture', undefined, { serviceDir: join(__dirname, 'fixture') });
  if (pkg.status !== 0) throw new Error(`serverless package failed:\n${pkg.output}`);
}, 300_000);

afterAll(() => pkg?.cleanup());

describe('event source settings in the packaged template', () => {
  it('writes window 0, retries, record age, bisect, partial batch response, the Kafka destination, pollers, metrics, logging and registries', () => {
    expectMappingsMatchEvents(pkg);
    const worker = mskMappings(pkg).find((m) => m.key === 'worker')!.mappings[0]!.Properties;
    // spelled out once, so a silently dropped setting cannot hide behind the generic check
    expect(worker).toMatchObject({
      MaximumBatchingWindowInSeconds: 0,
      MaximumRetryAttempts: 2,
      MaximumRecordAgeInSeconds: 3600,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: 'kafka://dead-letter' } },
      ProvisionedPollerConfig: { MinimumPollers: 1, MaximumPollers: 3, PollerGroupName: 'fixture-pollers' },
      MetricsConfig: { Metrics: ['EventCount', 'ErrorCount', 'KafkaMetrics'] },
      LoggingConfig: { SystemLogLevel: 'WARN' },
      AmazonManagedKafkaEventSourceConfig: {
        ConsumerGroupId: 'fixture-workers',
        SchemaRegistryConfig: {
          SchemaRegistryURI: GLUE_REGISTRY,
          EventRecordFormat: 'SOURCE',
          SchemaValidationConfigs: [{ Attribute: 'KEY' }, { Attribute: 'VALUE' }],
        },
      },
    });
    expect(mappingOf('avro')).toMatchObject({
      AmazonManagedKafkaEventSourceConfig: {
        SchemaRegistryConfig: {
          SchemaRegistryURI: 'https://registry.example.internal',
          EventRecordFormat: 'JSON',
          SchemaValidationConfigs: [{ Attribute: 'VALUE' }],
          AccessConfigs: [{ Type: 'BASIC_AUTH', URI: REGISTRY_SECRET }],
        },
      },
    });
    // absent where not set
    const listener = mappingOf('listener');
    for (const absent of ['MetricsConfig', 'LoggingConfig', 'ProvisionedPollerConfig']) {
      expect(listener).not.toHaveProperty(absent);
    }
    expect(listener.AmazonManagedKafkaEventSourceConfig).toEqual({ ConsumerGroupId: 'fixture-listener' });
  });

  it("gives a registry's function exactly what Lambda reads the registry with, and nothing to the others", () => {
    const registryActions = (key: string) =>
      statementsOf(key).filter((st) => st.Action.some((a) => a.startsWith('glue:') || a.startsWith('secretsmanager:')));
    expect(registryActions('worker')).toEqual([
      { Effect: 'Allow', Action: ['glue:GetRegistry'], Resource: [GLUE_REGISTRY] },
      {
        Effect: 'Allow',
        Action: ['glue:GetSchemaVersion'],
        Resource: [GLUE_REGISTRY, 'arn:aws:glue:eu-west-1:123456789012:schema/fixture-registry/*'],
      },
    ]);
    expect(registryActions('avro')).toEqual([
      { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: [REGISTRY_SECRET] },
    ]);
    expect(registryActions('listener')).toEqual([]);
  });

  it('refuses to package them without provisioned pollers, naming the mapping and the settings', () => {
    const onDemand = packageStage('fixture', undefined, {
      serviceDir: join(__dirname, 'fixture'),
      config: 'serverless.on-demand.yml',
    });
    onDemand.cleanup();

    expect(onDemand.status).not.toBe(0);
    expect(onDemand.output).toContain('these Kafka event settings need provisioned mode on AWS');
    expect(onDemand.output).toContain(
      'WorkerEventSourceMappingMSKOrdersclusterOrders: MaximumRetryAttempts, MaximumRecordAgeInSeconds, ' +
        'BisectBatchOnFunctionError, FunctionResponseTypes, a kafka:// destination',
    );
    expect(onDemand.output).not.toContain('Listener');
  });

  it('lets the mapping write its Kafka failure destination, and nothing else beyond what the function declares', () => {
    const resources = pkg.template!.Resources;
    const role = (resources.WorkerLambdaFunction!.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
    const statements = (
      resources[role]!.Properties.Policies as {
        PolicyDocument: { Statement: { Action: string[]; Resource: unknown }[] };
      }[]
    ).flatMap((p) => p.PolicyDocument.Statement);
    const arns = kafkaArns(String(mskMappings(pkg)[0]!.event.arn));

    const writable = statements
      .filter((s) => s.Action.includes('kafka-cluster:WriteData'))
      .flatMap((s) => s.Resource as string[])
      .sort();

    expect(writable).toEqual([arns.topic('dead-letter'), arns.topic('order-events')]);
  });

  it('passes cfn-lint with all of them', () => {
    expect(cfnLint(pkg.templateFile)).toEqual({ status: 0, output: '' });
  });
});
