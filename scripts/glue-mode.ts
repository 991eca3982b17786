/**
 * `npm start -- --glue`: order-analytics's Avro schema kept in an AWS Glue Schema Registry emulated by moto
 * (broker/moto.ts) instead of the Confluent-compatible registry: a registry created there, its ARN given to
 * the service as SCHEMA_REGISTRY_URL, so update-analytics registers its schema through the Glue API and
 * record-revenue's event source reads Glue-framed records, as on AWS with a Glue registry. With `--secure`
 * the moto of the secured mode serves Glue too.
 */
import { GlueClient } from '@aws-sdk/client-glue';
import { ensureGlueRegistry } from '../broker/glue-registry';
import { freePort } from '../broker/broker';
import { ensureMoto, motoClientConfig, motoEnv, startMoto, type Moto } from '../broker/moto';

export interface GlueMode {
  /** the environment `serverless offline` runs with */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** A Glue registry in moto (the one `base` already points Glue at, else one started here). */
export async function startGlueMode(base: NodeJS.ProcessEnv, say: (line: string) => void): Promise<GlueMode> {
  let moto: Moto | undefined;
  let endpoint = base.AWS_ENDPOINT_URL_GLUE;
  if (!endpoint) {
    ensureMoto(say);
    moto = await startMoto(await freePort());
    endpoint = moto.endpoint;
  }
  try {
    const aws = motoEnv({ endpoint }, base.AWS_REGION ?? 'eu-west-1');
    const RegistryArn = await ensureGlueRegistry(new GlueClient(motoClientConfig({ endpoint }, aws.AWS_REGION)));
    say(`Glue Schema Registry (moto${moto ? `, pid ${moto.pid}` : ''}) at ${endpoint}: ${RegistryArn}`);
    return {
      env: { ...base, ...aws, SCHEMA_REGISTRY_URL: RegistryArn },
      stop: async () => {
        await moto?.stop();
      },
    };
  } catch (error) {
    await moto?.stop();
    throw error;
  }
}
