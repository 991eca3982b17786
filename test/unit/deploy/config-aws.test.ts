import { loadConfig } from '../../../lib/config';
import { ConfigError } from '../../../lib/errors';

const CLUSTER_ARN = 'arn:aws:kafka:eu-central-1:123456789012:cluster/orders/6e1b4c2a-1f0e-4b8a-9c3d-2f5e7a9b1c0d-2';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:AmazonMSK_orders-AbCdEf';

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
  } catch (error) {
    return (error as ConfigError).problems;
  }
  return [];
};

describe('configuration on AWS (what the deployed functions get)', () => {
  it('needs no broker list when the cluster ARN is given, and signs IAM tokens for the cluster region', () => {
    const config = loadConfig({ MSK_CLUSTER_ARN: CLUSTER_ARN, KAFKA_AUTH: 'iam', AWS_REGION: 'us-east-1' });

    expect(config.kafka).toMatchObject({
      brokers: [],
      mskClusterArn: CLUSTER_ARN,
      auth: 'iam',
      ssl: true,
      region: 'eu-central-1',
    });
  });

  it('reads SCRAM credentials from a secret instead of the environment, over TLS', () => {
    const config = loadConfig({ MSK_CLUSTER_ARN: CLUSTER_ARN, KAFKA_AUTH: 'scram', KAFKA_SASL_SECRET_ARN: SECRET_ARN });

    expect(config.kafka).toMatchObject({ saslSecretArn: SECRET_ARN, sasl: undefined, ssl: true });
  });

  it('names what is missing: brokers or cluster, region for IAM, credentials for SCRAM', () => {
    expect(problemsOf({})).toEqual([
      expect.stringMatching(/^KAFKA_BROKERS is required .* unless MSK_CLUSTER_ARN is set/),
    ]);
    expect(problemsOf({ KAFKA_BROKERS: 'b:9098', KAFKA_AUTH: 'iam' })).toEqual([
      'AWS_REGION is required when KAFKA_AUTH=iam (or set MSK_CLUSTER_ARN)',
    ]);
    expect(problemsOf({ KAFKA_BROKERS: 'b:9096', KAFKA_AUTH: 'scram', KAFKA_SASL_USERNAME: 'u' })).toEqual([
      'KAFKA_SASL_PASSWORD is required when KAFKA_AUTH=scram (or set KAFKA_SASL_SECRET_ARN)',
    ]);
  });

  it('rejects a malformed cluster or secret ARN, naming the variable', () => {
    const problems = problemsOf({
      MSK_CLUSTER_ARN: 'arn:aws:kafka:eu-central-1:123:cluster/orders',
      KAFKA_AUTH: 'scram',
      KAFKA_SASL_SECRET_ARN: 'AmazonMSK_orders',
    });

    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^MSK_CLUSTER_ARN must be an MSK cluster ARN/),
        expect.stringMatching(/^KAFKA_SASL_SECRET_ARN must be a Secrets Manager secret ARN/),
      ]),
    );
  });
});
