/**
 * Reading the Secrets Manager secrets an event's authentication names. A secret ARN listed in the plugin
 * option `secrets` is read from that JSON file (for people without AWS credentials or an emulator);
 * any other from Secrets Manager with the developer's own credentials and region (the AWS SDK's usual
 * chain; `AWS_ENDPOINT_URL_SECRETS_MANAGER` points it at an emulator). Read at every call, never cached:
 * a corrected file or a rotated secret is used at the next connection attempt.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';

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
  const clients = new Map<string, Promise<{ send(command: unknown): Promise<{ SecretString?: string }> }>>();
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
    let client = clients.get(region);
    if (!client) {
      client = import('@aws-sdk/client-secrets-manager').then(
        ({ SecretsManagerClient }) => new SecretsManagerClient({ region }),
      );
      clients.set(region, client);
    }
    const { GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
    const answer = await (await client).send(new GetSecretValueCommand({ SecretId: arn })).catch((error: Error) => {
      throw new Error(
        `Secrets Manager (${region}) answered: ${error.message}; map the ARN to a JSON file in custom.serverless-offline-kafka.secrets to run without AWS`,
      );
    });
    if (answer.SecretString === undefined) throw new Error('Secrets Manager returned a binary secret, not JSON');
    return parseSecret(answer.SecretString, `the secret ${arn}`);
  };
}
