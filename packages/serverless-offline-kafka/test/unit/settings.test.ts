import { readEventSettings, readPluginOptions } from '../../src/settings';
import { ctx, msk, options } from './samples';

describe('settings', () => {
  it('applies AWS defaults and derives a stable group id', () => {
    expect(msk).toMatchObject({
      batchSize: 100,
      batchingWindowMs: 500,
      startingPosition: 'TRIM_HORIZON',
      enabled: true,
      maximumRetryAttempts: -1,
      maximumRecordAgeSeconds: -1,
      groupId: 'shop-local-worker-order-events',
    });
  });

  it('keeps window 0, reads numeric strings from ${env:} variables, and rejects a batch size over 10,000', () => {
    const s = readEventSettings(ctx, options, { key: 'w' }, 'msk', {
      topic: 't',
      maximumBatchingWindow: 0,
      batchSize: '250',
    });
    expect(s).toMatchObject({ batchingWindowMs: 0, batchSize: 250 });
    expect(() => readEventSettings(ctx, options, { key: 'w' }, 'msk', { topic: 't', batchSize: 10_001 })).toThrow(
      /function "w", msk event: batchSize must be 1-10000/,
    );
  });

  it("the plugin option brokers overrides a kafka event's bootstrapServers, and its authentication with them", () => {
    const event = {
      topic: 't',
      bootstrapServers: ['far:9096'],
      accessConfigurations: { saslScram512Auth: ['arn:aws:secretsmanager:eu-west-1:1:secret:s-AbCdEf'] },
    };
    const local = readEventSettings(ctx, readPluginOptions({ brokers: 'h:1,h:2' }), { key: 'w' }, 'kafka', event);
    expect(local).toMatchObject({ brokers: ['h:1', 'h:2'], auth: undefined });
    const far = readEventSettings(ctx, readPluginOptions({}), { key: 'w' }, 'kafka', event);
    expect(far).toMatchObject({ brokers: ['far:9096'], auth: { sasl: { mechanism: 'scram-sha-512' } } });
  });

  it('with mskIam, an msk event without saslScram512 uses MSK IAM in the region of its cluster ARN', () => {
    const arn = 'arn:aws:kafka:eu-central-1:123456789012:cluster/demo/6e1b4c2a-1f0e-4b8a-9c3d-2f5e7a9b1c0d-2';
    const iam = readPluginOptions({ mskIam: true });
    expect(readEventSettings(ctx, iam, { key: 'w' }, 'msk', { arn, topic: 't' }).auth).toEqual({
      iam: { region: 'eu-central-1' },
    });
    // a CloudFormation reference instead of an ARN: the service's region
    const ref = { arn: { 'Fn::ImportValue': 'cluster' }, topic: 't' };
    expect(readEventSettings(ctx, iam, { key: 'w' }, 'msk', ref).auth).toEqual({ iam: { region: ctx.region } });
    expect(
      readEventSettings(ctx, readPluginOptions({}), { key: 'w' }, 'msk', { arn, topic: 't' }).auth,
    ).toBeUndefined();
    expect(readPluginOptions({ mskIam: 'true' }).mskIam).toBe(true); // as ${env:MSK_IAM} resolves
    expect(readPluginOptions({ mskIam: 'false' }).mskIam).toBe(false);
    expect(() => readPluginOptions({ mskIam: 'yes' })).toThrow(/mskIam: must be true or false/);
  });
});

describe('plugin options', () => {
  it('leaves the invocation mode to serverless-offline unless useInProcess is set, and refuses anything but a boolean', () => {
    expect(readPluginOptions({}).useInProcess).toBeUndefined();
    expect(readPluginOptions({ useInProcess: false }).useInProcess).toBe(false);
    expect(readPluginOptions({ useInProcess: true }).useInProcess).toBe(true);
    expect(() => readPluginOptions({ useInProcess: 'false' })).toThrow(/useInProcess: must be true or false/);
  });
});
