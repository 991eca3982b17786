/**
 * Schema versions from an AWS Glue Schema Registry, through the Glue API (`GetSchemaVersion` by the
 * version UUID a record's Glue frame carries), with the developer's own AWS credentials; the SDK's
 * `AWS_ENDPOINT_URL_GLUE` points it at an emulator (moto) instead.
 */
import type { GlueClient as Client } from '@aws-sdk/client-glue';
import type { RegistrySchema } from './schema-wire';

/** The schema version `versionId` in `region`, undefined when Glue has none by that id. */
export type GlueSchemaReader = (region: string, versionId: string) => Promise<RegistrySchema | undefined>;

/** What Glue answers when a version id names nothing (or is not a UUID): the record's schema is not found. */
const NOT_FOUND = new Set(['EntityNotFoundException', 'InvalidInputException']);

/** Reads schema versions with one Glue client per region, the SDK loaded on first use. */
export function createGlueSchemaReader(): GlueSchemaReader {
  let sdk: Promise<typeof import('@aws-sdk/client-glue')> | undefined;
  const clients = new Map<string, Client>();
  return async (region, versionId) => {
    const { GlueClient, GetSchemaVersionCommand } = await (sdk ??= import('@aws-sdk/client-glue'));
    let client = clients.get(region);
    if (!client) clients.set(region, (client = new GlueClient({ region })));
    try {
      const version = await client.send(new GetSchemaVersionCommand({ SchemaVersionId: versionId }));
      if (!version.SchemaDefinition) return undefined;
      return { schema: version.SchemaDefinition, schemaType: version.DataFormat ?? 'AVRO' };
    } catch (error) {
      if (NOT_FOUND.has((error as Error).name)) return undefined;
      throw error;
    }
  };
}
