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

beforeAll(() => {
  pkg = packageStage('fixture', undefined, { serviceDir: join(__dirname, 'fixture') });
  if (pkg.status !== 0) throw new Error(`serverless package failed:\n${pkg.output}`);
}, 300_000);

afterAll(() => pkg?.cleanup());

describe('event source settings in the packaged template', () => {
  it('writes window 0, retries, record age, bisect, partial batch response and the Kafka destination', () => {
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
      ProvisionedPollerConfig: { MinimumPollers: 1, MaximumPollers: 3 },
    });
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
