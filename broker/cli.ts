/**
 * npm run broker -- up | down | status | logs [--follow]
 * See broker/broker.ts for how a broker is chosen: reachable at KAFKA_BROKERS, else Docker, else jars.
 * `up --secure` / `down --secure`: the secured broker of broker/secure.ts (SASL_SSL with SCRAM-SHA-512, TLS).
 */
import { parseArgs } from 'node:util';
import { BrokerError, down, logs, status, up } from './broker';
import { downSecure, upSecure } from './secure';

const USAGE =
  'usage: npm run broker -- up | down | status | logs [--follow]   (up --secure, down --secure: the secured broker)';
const say = (line: string) => process.stderr.write(`[broker] ${line}\n`);

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      follow: { type: 'boolean', short: 'f', default: false },
      secure: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command] = positionals;
  if (values.help || positionals.length !== 1) {
    console.log(USAGE);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  switch (command) {
    case 'up':
      await (values.secure ? upSecure(say) : up());
      return;
    case 'down':
      await (values.secure ? downSecure(say) : down());
      return;
    case 'status':
      console.log(await status());
      return;
    case 'logs':
      logs(values.follow);
      return;
    default:
      console.error(`unknown command "${command}"\n${USAGE}`);
      process.exitCode = 2;
  }
}

main().catch((error: unknown) => {
  console.error(`[broker] ${error instanceof BrokerError ? error.message : String((error as Error)?.stack ?? error)}`);
  process.exitCode = 1;
});
