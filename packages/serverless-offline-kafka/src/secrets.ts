/**
 * Reading the Secrets Manager secrets an event's authentication names. A secret ARN listed in the plugin
 * option `secrets` is read from that JSON file (for people without AWS credentials or an emulator);
 * any other from Secrets Manager with the developer's own credentials and region (the AWS SDK's usual
 * chain; `AWS_ENDPOINT_URL_SECRETS_MANAGER` points it at an emulator). Read at every call, never cached:
 * a corrected file or a rotated secret is used at the next connection attempt.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { SecretsManagerClient as Client } from '@aws-sdk/client-secrets-manager';

export type SecretReader = (arn: string) => Promise<Record<string, unknown>>;

function parseSecret(text: string, from: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${from} is not JSON`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${from} is not a JSON object`);
  return parsed as Record<string, unknown>;
}

/** The region of a secret ARN (arn:aws:secretsmanager:<region>:…), else `fallback`. */
const regionOf = (arn: string, fallback: string) => /^arn:[^:]+:secretsmanager:([^:]+):/.exec(arn)?.[1] ?? fallback;

export function createSecretReader(options: {
  /** secret ARN → JSON file, from `custom.serverless-offline-kafka.secrets` */
  files: Record<string, string>;
  /** where relative file paths start: the folder of serverless.yml */
  serviceDir: string;
  region: string;
}): SecretReader {
  // loaded on first use only: a service whose secrets are all in files never loads the AWS SDK
  let sdk: Promise<typeof import('@aws-sdk/client-secrets-manager')> | undefined;
  const clients = new Map<string, Client>();
  return async (arn) => {
    const file = options.files[arn];
    if (file !== undefined) {
      const path = isAbsolute(file) ? file : resolve(options.serviceDir, file);
      const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new Error(
          `custom.serverless-offline-kafka.secrets maps it to ${path}, which cannot be read (${error.code})`,
        );
      });
      return parseSecret(text, path);
    }
    const region = regionOf(arn, options.region);
    const { SecretsManagerClient, GetSecretValueCommand } = await (sdk ??= import('@aws-sdk/client-secrets-manager'));
    let client = clients.get(region);
    if (!client) clients.set(region, (client = new SecretsManagerClient({ region })));
    const answer = await client.send(new GetSecretValueCommand({ SecretId: arn })).catch((error: Error) => {
      throw new Error(
        `Secrets Manager (${region}) answered: ${error.message}; map the ARN to a JSON file in custom.serverless-offline-kafka.secrets to run without AWS`,
      );
    });
    if (answer.SecretString === undefined) throw new Error('Secrets Manager returned a binary secret, not JSON');
    return parseSecret(answer.SecretString, `the secret ${arn}`);
  };
}

/** The reader of an event source given none: every secret is missing. */
export const missingSecretReader: SecretReader = (arn) => Promise.reject(new Error(`no secret reader for ${arn}`));
