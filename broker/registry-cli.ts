/**
 * npm run registry -- up | down | build  [--glue]
 * A Confluent-compatible schema registry on 127.0.0.1:8081 (broker/registry.ts), for the local event
 * source's schemaRegistryConfig; with --glue an AWS Glue Schema Registry emulated by moto on
 * 127.0.0.1:5000 instead (broker/glue-registry.ts).
 */
import { BrokerError } from './broker';
import { downGlueRegistry, upGlueRegistry } from './glue-registry';
import { downRegistry, ensureRegistry, upRegistry } from './registry';

const say = (line: string) => process.stderr.write(`[registry] ${line}\n`);

async function main(): Promise<void> {
  const command = process.argv[2];
  if (process.argv.includes('--glue')) {
    if (command === 'down') return downGlueRegistry(say);
    if (command === 'up') {
      const { env } = await upGlueRegistry(process.env, say);
      const assignments = Object.entries(env).map(([name, value]) => `${name}=${value}`);
      say(`run the service with it: ${assignments.join(' ')} npm run offline`);
      return;
    }
  }
  if (command === 'up') {
    const { url } = await upRegistry(say);
    say(
      `register a schema: curl -X POST -H 'content-type: application/vnd.schemaregistry.v1+json' ${url}/subjects/<topic>-value/versions -d '{"schema": "…"}'`,
    );
    return;
  }
  if (command === 'down') return downRegistry(say);
  if (command === 'build') return void ensureRegistry(say); // npm test builds it before the tests
  console.log('usage: npm run registry -- up | down | build, or up | down --glue');
  process.exitCode = command === '--help' || command === '-h' ? 0 : 2;
}

main().catch((error: unknown) => {
  console.error(
    `[registry] ${error instanceof BrokerError ? error.message : String((error as Error)?.stack ?? error)}`,
  );
  process.exitCode = 1;
});
