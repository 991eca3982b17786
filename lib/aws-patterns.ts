/**
 * What AWS identifiers look like, for the configuration (lib/config.ts) and the deploy parameters
 * (deploy/params.ts). ARN partitions: aws, aws-cn, aws-us-gov.
 */

/** e.g. eu-west-1 */
export const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

/** arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>; groups: partition, region, account, name, uuid */
export const MSK_CLUSTER_ARN =
  /^arn:(aws[a-z-]*):kafka:([a-z0-9-]+):(\d{12}):cluster\/([A-Za-z0-9-]+)\/([A-Za-z0-9-]+)$/;

/** arn:aws:glue:<region>:<account>:registry/<name>; groups: partition, region, account, name */
export const GLUE_REGISTRY_ARN = /^arn:(aws[a-z-]*):glue:([a-z0-9-]+):(\d{12}):registry\/([A-Za-z0-9_$#-]+)$/;

/** arn:aws:secretsmanager:<region>:<account>:secret:<name> */
export const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:(.+)$/;

export const MSK_CLUSTER_ARN_HINT =
  'must be an MSK cluster ARN, arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>';
export const AWS_REGION_HINT = 'must be an AWS region, e.g. eu-west-1';
