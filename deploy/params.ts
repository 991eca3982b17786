/**
 * The parameters of an AWS stage (deploy/params.<stage>.yml): which MSK cluster, how to authenticate,
 * which VPC. Checked before anything is packaged, every problem named at once.
 */
import { z } from 'zod';
import {
  AWS_REGION,
  AWS_REGION_HINT,
  GLUE_REGISTRY_ARN,
  MSK_CLUSTER_ARN,
  MSK_CLUSTER_ARN_HINT,
  SECRET_ARN,
} from '../lib/aws-patterns';

export const DEPLOY_AUTH_MODES = ['iam', 'scram'] as const;

// MSK reads SCRAM secrets only under names that start with AmazonMSK_
const MSK_SECRET_NAME = /^AmazonMSK_/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/.+$/;

const PARAMS_SCHEMA = z
  .object({
    region: z
      .string({ error: 'is required: the AWS region of the stage, e.g. eu-west-1' })
      .regex(AWS_REGION, AWS_REGION_HINT),
    mskClusterArn: z
      .string({ error: 'is required: the ARN of the MSK cluster' })
      .regex(MSK_CLUSTER_ARN, MSK_CLUSTER_ARN_HINT),
    auth: z.enum(DEPLOY_AUTH_MODES, { error: `must be one of ${DEPLOY_AUTH_MODES.join(', ')}` }).default('iam'),
    saslScramSecretArn: z
      .string()
      .refine((arn) => MSK_SECRET_NAME.test(SECRET_ARN.exec(arn)?.[1] ?? ''), {
        message: 'must be a Secrets Manager secret ARN whose name starts with AmazonMSK_ (MSK requires it)',
      })
      .optional(),
    saslScramKmsKeyArn: z.string().regex(KMS_KEY_ARN, 'must be a KMS key ARN').optional(),
    schemaRegistryUrl: z
      .string({
        error:
          "is required: the schema registry that keeps order-analytics's Avro schema (a Confluent-compatible https:// URL or a Glue registry ARN)",
      })
      .refine((s) => /^https:\/\/[^/\s]+/.test(s) || GLUE_REGISTRY_ARN.test(s), {
        message:
          'must be an https URL (e.g. https://schema-registry.example.internal) or a Glue registry ARN (arn:aws:glue:<region>:<account>:registry/<name>)',
      }),
    subnetIds: z
      .array(z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'must be subnet ids, subnet-…'), {
        error: 'is required: the private subnets the functions run in (a list)',
      })
      .min(1, 'needs at least one subnet'),
    securityGroupIds: z
      .array(z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'must be security group ids, sg-…'), {
        error: 'is required: security groups that may reach the MSK brokers (a list)',
      })
      .min(1, 'needs at least one security group'),
  })
  .strict();

export type DeployParams = z.infer<typeof PARAMS_SCHEMA>;

/** The cluster ARN's parts, from which topic and group ARNs are built. */
export interface ClusterParts {
  partition: string;
  region: string;
  account: string;
  name: string;
  uuid: string;
}

export function clusterParts(arn: string): ClusterParts {
  const m = MSK_CLUSTER_ARN.exec(arn);
  if (!m) throw new Error(`not an MSK cluster ARN: ${arn}`);
  return { partition: m[1]!, region: m[2]!, account: m[3]!, name: m[4]!, uuid: m[5]! };
}

/** The parameter problems of a stage, each naming its parameter (empty = fine). */
export function checkParams(
  raw: unknown,
  context: { stage: string; file: string; region: string },
): { params?: DeployParams; problems: string[] } {
  if (raw === null || raw === undefined) {
    return {
      problems: [
        `no parameter file ${context.file} for stage "${context.stage}": copy deploy/params.example.yml there`,
      ],
    };
  }
  const parsed = PARAMS_SCHEMA.safeParse(raw);
  if (!parsed.success) {
    return {
      problems: parsed.error.issues.map((issue) =>
        issue.code === 'unrecognized_keys'
          ? `unknown parameter ${issue.keys.join(', ')} (expected ${Object.keys(PARAMS_SCHEMA.shape).join(', ')})`
          : `${issue.path.join('.')} ${issue.message}`,
      ),
    };
  }
  const params = parsed.data;
  const problems: string[] = [];
  if (params.auth === 'scram' && !params.saslScramSecretArn) {
    problems.push('saslScramSecretArn is required when auth is scram');
  }
  if (params.auth !== 'scram' && (params.saslScramSecretArn || params.saslScramKmsKeyArn)) {
    problems.push('saslScramSecretArn / saslScramKmsKeyArn are only used with auth: scram');
  }
  const clusterRegion = clusterParts(params.mskClusterArn).region;
  if (clusterRegion !== params.region) {
    problems.push(
      `mskClusterArn is in ${clusterRegion} but region is ${params.region}: Lambda reads MSK in its own region`,
    );
  }
  if (context.region !== params.region) {
    problems.push(`region is ${params.region} but the stage deploys to ${context.region} (--region)`);
  }
  return { params: problems.length === 0 ? params : undefined, problems };
}
