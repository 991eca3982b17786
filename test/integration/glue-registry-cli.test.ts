/**
 * `npm run registry -- up --glue` / `down --glue`: moto on 127.0.0.1:5000 with the registry and the
 * example's order-analytics schema, the environment to run the service with, reuse on a second `up`.
 */
import { GetSchemaVersionCommand, GlueClient } from '@aws-sdk/client-glue';
import { GLUE_PORT } from '../../broker/glue-registry';
import { motoClientConfig } from '../../broker/moto';
import { ANALYTICS_FACT_AVRO } from '../../lib/orders/analytics';
import { npmRun } from '../helpers/process';

const VERSION = /schema order-analytics version ([0-9a-f-]{36})/;

afterAll(async () => {
  await npmRun('registry', ['down', '--glue']);
});

it('starts moto with the registry and the example schema, says how to run with it, finds it running, stops it', async () => {
  const up = await npmRun('registry', ['up', '--glue'], { KAFKA_TOPIC_PREFIX: '' });
  expect(up.code).toBe(0);
  expect(up.output).toMatch(/moto \(AWS Glue Schema Registry, in memory\) at http:\/\/127\.0\.0\.1:5000 \(pid \d+\)/);
  const registry = 'arn:aws:glue:eu-west-1:123456789012:registry/kafka-serverless';
  expect(up.output).toContain(
    `AWS_ENDPOINT_URL_GLUE=http://127.0.0.1:${GLUE_PORT} AWS_REGION=eu-west-1 AWS_ACCESS_KEY_ID=moto AWS_SECRET_ACCESS_KEY=moto SCHEMA_REGISTRY_URL=${registry} npm run offline`,
  );
  const versionId = VERSION.exec(up.output)![1]!;
  const glue = new GlueClient(motoClientConfig({ endpoint: `http://127.0.0.1:${GLUE_PORT}` }));
  const version = await glue.send(new GetSchemaVersionCommand({ SchemaVersionId: versionId }));
  expect(JSON.parse(version.SchemaDefinition!)).toEqual(ANALYTICS_FACT_AVRO);

  const again = await npmRun('registry', ['up', '--glue']);
  expect(again.output).toMatch(/moto is already running at http:\/\/127\.0\.0\.1:5000 \(pid \d+\)/);
  expect(VERSION.exec(again.output)![1]).toBe(versionId);

  const down = await npmRun('registry', ['down', '--glue']);
  expect(down.output).toMatch(/stopped moto \(pid \d+\)/);
}, 120_000);
