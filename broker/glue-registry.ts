/**
 * `npm run registry -- up --glue`: an AWS Glue Schema Registry emulated by moto (broker/moto.ts) on
 * 127.0.0.1:5000, for running `serverless offline` yourself (`npm start -- --glue` starts its own): the
 * registry `kafka-serverless` created in it, the example's `order-analytics` Avro schema registered (as
 * update-analytics would on its first write), and the environment to run with printed. Its schemas live
 * in memory; `npm run registry -- down --glue` stops it by its pid.
 */
import { join } from 'node:path';
import { CreateRegistryCommand, GetRegistryCommand, GlueClient } from '@aws-sdk/client-glue';
import { TOPIC_NAMES, topicName } from '../lib/kafka/topics';
import { ANALYTICS_FACT_AVRO } from '../lib/orders/analytics';
import { glueSchemaHome } from '../lib/schema-registry/registries';
import { BrokerError, isOurProcess, isReachable, paths, stateFile } from './broker';
import { ensureMoto, motoClientConfig, motoEnv, MOTO_SERVER, startMoto } from './moto';

/** moto's own default port. */
export const GLUE_PORT = 5000;
/** The registry's name, in the ARN the service gets as SCHEMA_REGISTRY_URL. */
export const GLUE_REGISTRY_NAME = 'kafka-serverless';
const STATE_FILE = join(paths.ROOT, '.cache', 'registry', 'glue.json');

const motoState = stateFile<{ pid: number; startedAt: string }>(STATE_FILE);

/** The registry in the moto at `endpoint`, created unless it is there; its ARN. */
export async function ensureGlueRegistry(glue: GlueClient): Promise<string> {
  try {
    return (await glue.send(new CreateRegistryCommand({ RegistryName: GLUE_REGISTRY_NAME }))).RegistryArn!;
  } catch (error) {
    if ((error as Error).name !== 'AlreadyExistsException') throw error;
    return (await glue.send(new GetRegistryCommand({ RegistryId: { RegistryName: GLUE_REGISTRY_NAME } }))).RegistryArn!;
  }
}

/** moto on 127.0.0.1:5000 (reused when ours runs), the registry and the example's schema in it; the env to run with. */
export async function upGlueRegistry(
  base: NodeJS.ProcessEnv,
  say: (line: string) => void,
): Promise<{ env: Record<string, string>; started: boolean }> {
  const endpoint = `http://127.0.0.1:${GLUE_PORT}`;
  const pid = motoState.read()?.pid;
  const ours = isOurProcess(pid, [MOTO_SERVER]);
  if (!ours && (await isReachable('127.0.0.1', GLUE_PORT, 300))) {
    throw new BrokerError(`port ${GLUE_PORT} on 127.0.0.1 is taken by another process`);
  }
  if (ours) say(`moto is already running at ${endpoint} (pid ${pid})`);
  else {
    ensureMoto(say);
    const moto = await startMoto(GLUE_PORT, true);
    motoState.write({ pid: moto.pid, startedAt: new Date().toISOString() });
    say(`moto (AWS Glue Schema Registry, in memory) at ${endpoint} (pid ${moto.pid})`);
  }
  const glue = new GlueClient(motoClientConfig({ endpoint }));
  const registryArn = await ensureGlueRegistry(glue);
  const schemaName = topicName({ topicPrefix: base.KAFKA_TOPIC_PREFIX ?? '' }, TOPIC_NAMES.orderAnalytics);
  const home = glueSchemaHome({ registryArn, schemaName, schema: JSON.stringify(ANALYTICS_FACT_AVRO), glue });
  say(`registry ${registryArn}: schema ${schemaName} version ${await home.schemaId()}`);
  return { env: { ...motoEnv({ endpoint }), SCHEMA_REGISTRY_URL: registryArn }, started: !ours };
}

/** Stop the moto `upGlueRegistry` started, if it runs. */
export function downGlueRegistry(say: (line: string) => void): void {
  const pid = motoState.read()?.pid;
  motoState.clear();
  if (!isOurProcess(pid, [MOTO_SERVER])) {
    say('nothing to stop: no Glue registry was started by npm run registry -- up --glue');
    return;
  }
  process.kill(pid!, 'SIGTERM');
  say(`stopped moto (pid ${pid})`);
}
