/**
 * What a packaged template must say for each `msk` event of the service, derived from the event
 * itself: shared by the tests of the project's template and of the extensions fixture.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, type CfnResource, type Packaged } from './package';

export type MskEvent = Record<string, unknown>;

/** `fulfil-order` → `FulfilDashorderLambdaFunction` (the framework's naming) */
export const functionLogicalId = (key: string) =>
  `${key
    .replace(/-/g, 'Dash')
    .replace(/_/g, 'Underscore')
    .replace(/^./, (c) => c.toUpperCase())}LambdaFunction`;

export const targetOf = (mapping: CfnResource) =>
  (mapping.Properties.FunctionName as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];

/** every msk event of the packaged service, with its function and the one mapping generated for it */
export function mskMappings(pkg: Packaged): { key: string; event: MskEvent; mappings: CfnResource[] }[] {
  const all = Object.values(pkg.template!.Resources).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
  return Object.entries(pkg.service!.functions).flatMap(([key, fn]) =>
    (fn.events ?? [])
      .filter((e) => e.msk)
      .map((e) => ({
        key,
        event: e.msk!,
        mappings: all.filter(
          (m) => targetOf(m) === functionLogicalId(key) && (m.Properties.Topics as string[])[0] === e.msk!.topic,
        ),
      })),
  );
}

/** The mapping properties an msk event asks for, including those only the event source plugin writes. */
export function expectedMapping(event: MskEvent): Record<string, unknown> {
  const expected: Record<string, unknown> = {
    EventSourceArn: event.arn,
    Topics: [event.topic],
    AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: event.consumerGroupId },
    StartingPosition: event.startingPosition ?? 'TRIM_HORIZON',
    BatchSize: event.batchSize ?? 100,
  };
  const optional: [string, string, (v: unknown) => unknown][] = [
    ['startingPositionTimestamp', 'StartingPositionTimestamp', (v) => v],
    // 0 included: the framework drops it, the event source plugin (packages/serverless-offline-kafka) restores it
    ['maximumBatchingWindow', 'MaximumBatchingWindowInSeconds', (v) => v],
    ['maximumRetryAttempts', 'MaximumRetryAttempts', (v) => v],
    ['maximumRecordAgeInSeconds', 'MaximumRecordAgeInSeconds', (v) => v],
    ['bisectBatchOnFunctionError', 'BisectBatchOnFunctionError', (v) => v],
    ['functionResponseType', 'FunctionResponseTypes', (v) => [v]],
    ['onFailureDestination', 'DestinationConfig', (v) => ({ OnFailure: { Destination: v } })],
  ];
  for (const [setting, property, map] of optional) {
    if (event[setting] !== undefined) expected[property] = map(event[setting]);
  }
  return expected;
}

/** one mapping per msk event, each with everything its event asks for */
export function expectMappingsMatchEvents(pkg: Packaged): void {
  const events = mskMappings(pkg);
  const total = Object.values(pkg.template!.Resources).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
  expect(events.length).toBeGreaterThan(0);
  expect(total).toHaveLength(events.length);
  for (const { key, event, mappings } of events) {
    expect({ key, count: mappings.length }).toEqual({ key, count: 1 });
    expect({ key, ...mappings[0]!.Properties }).toMatchObject({ key, ...expectedMapping(event) });
  }
}

/** cfn-lint on a template: .cache/cfn-lint (scripts/install-cfn-lint.sh), else one on PATH. */
export function cfnLint(templateFile: string): { status: number | null; output: string } {
  const installed = join(ROOT, '.cache', 'cfn-lint', 'bin', 'cfn-lint');
  // W3005 (a DependsOn that a Ref already implies) is in the framework's own HttpApi routes
  const args = ['--ignore-checks', 'W3005', '--', templateFile];
  const lint = spawnSync(existsSync(installed) ? installed : 'cfn-lint', args, { encoding: 'utf8' });
  if (lint.error) throw new Error(`cfn-lint is not installed: run scripts/install-cfn-lint.sh (${lint.error.message})`);
  return { status: lint.status, output: `${lint.stdout}${lint.stderr}` };
}
