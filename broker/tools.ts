/**
 * npm run kafka -- <tool> [args…]: Apache Kafka's own command-line tools (the `kafka-<tool>.sh` scripts
 * of the Kafka distribution) against the local broker, with `--bootstrap-server` filled in from
 * KAFKA_BROKERS. A broker `npm run broker -- up` started with Docker Compose runs the tool inside its
 * container (`docker compose exec`); otherwise the tool's main class runs with `java -cp` on the jars
 * broker/pom.xml resolves (kafka-tools is one of them).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { brokersOf } from './address';
import { BrokerError, brokerAddress, ensureJars, paths, startedMode } from './broker';

/** `kafka-<name>.sh` → its main class, as in the scripts of the Kafka 4.1 distribution's bin/ folder. */
export const KAFKA_TOOLS = {
  topics: 'org.apache.kafka.tools.TopicCommand',
  'consumer-groups': 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
  'console-consumer': 'org.apache.kafka.tools.consumer.ConsoleConsumer',
  'console-producer': 'org.apache.kafka.tools.ConsoleProducer',
  'get-offsets': 'org.apache.kafka.tools.GetOffsetShell',
  configs: 'kafka.admin.ConfigCommand',
  'delete-records': 'org.apache.kafka.tools.DeleteRecordsCommand',
  'log-dirs': 'org.apache.kafka.tools.LogDirsCommand',
  'broker-api-versions': 'org.apache.kafka.tools.BrokerApiVersionsCommand',
  'metadata-quorum': 'org.apache.kafka.tools.MetadataQuorumCommand',
  groups: 'org.apache.kafka.tools.GroupsCommand',
  transactions: 'org.apache.kafka.tools.TransactionsCommand',
  features: 'org.apache.kafka.tools.FeatureCommand',
} as const;
export type KafkaTool = keyof typeof KAFKA_TOOLS;

const USAGE = [
  'usage: npm run kafka -- <tool> [args…]   (Kafka’s kafka-<tool>.sh, --bootstrap-server filled in)',
  `tools: ${Object.keys(KAFKA_TOOLS).join(', ')}`,
  'e.g.   npm run kafka -- topics --list',
  '       npm run kafka -- consumer-groups --describe --all-groups',
  '       npm run kafka -- console-consumer --topic dead-letter --from-beginning --property print.headers=true',
  'a tool’s own options: npm run kafka -- <tool> --help',
].join('\n');

/** The process to run for `tool args` against the broker at KAFKA_BROKERS, in the given mode. */
export function kafkaToolCommand(
  tool: KafkaTool,
  args: string[],
  mode: 'docker' | 'jar',
  env: NodeJS.ProcessEnv = process.env,
): { command: string; args: string[] } {
  const { port } = brokerAddress(env);
  // every tool here takes --bootstrap-server before its other arguments, even those with sub-commands
  const given = args.some((a) => /^--bootstrap-(server|controller)\b/.test(a));
  if (mode === 'docker') {
    // inside the container the broker listens on the same port (docker-compose.yml)
    const bootstrap = given ? [] : ['--bootstrap-server', `127.0.0.1:${port}`];
    return {
      command: 'docker',
      args: [
        'compose',
        'exec',
        ...(process.stdin.isTTY ? [] : ['-T']),
        // the image's KAFKA_HEAP_OPTS is the broker's 512 MB; a tool needs far less
        '-e',
        'KAFKA_HEAP_OPTS=-Xmx256m',
        'kafka',
        `/opt/kafka/bin/kafka-${tool}.sh`,
        ...bootstrap,
        ...args,
      ],
    };
  }
  const bootstrap = given ? [] : ['--bootstrap-server', brokersOf(env)];
  return {
    command: 'java',
    args: [
      '-Xmx256m',
      `-Dlog4j2.configurationFile=${join(paths.ROOT, 'broker', 'tools-log4j2.properties')}`,
      '-cp',
      `${paths.LIBS_DIR}/*`,
      KAFKA_TOOLS[tool],
      ...bootstrap,
      ...args,
    ],
  };
}

async function main(argv: string[]): Promise<number> {
  const [tool, ...args] = argv;
  if (!tool || tool === '--help' || tool === '-h') {
    console.log(USAGE);
    return tool ? 0 : 2;
  }
  if (!Object.hasOwn(KAFKA_TOOLS, tool)) {
    console.error(`unknown tool "${tool}"\n${USAGE}`);
    return 2;
  }
  const forced = process.env.BROKER_MODE;
  const mode = forced === 'docker' || forced === 'jar' ? forced : startedMode() === 'docker' ? 'docker' : 'jar';
  if (mode === 'jar') await ensureJars((line) => process.stderr.write(`[kafka] ${line}\n`));
  const { command, args: commandArgs } = kafkaToolCommand(tool as KafkaTool, args, mode);
  const child = spawn(command, commandArgs, { stdio: 'inherit' });
  // Ctrl-C reaches the tool too (same process group): wait for it to finish, e.g. the console
  // consumer printing how many records it read
  process.on('SIGINT', () => undefined);
  return new Promise((resolve) => {
    child.once('error', (error) => {
      const what = mode === 'jar' ? 'Java 17+ (and Maven)' : 'Docker with the compose plugin';
      console.error(`[kafka] cannot run ${command}: ${error.message}. Install ${what}.`);
      resolve(1);
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 130 : 1)));
  });
}

if (require.main === module) {
  main(process.argv.slice(2))
    .then((code) => (process.exitCode = code))
    .catch((error: unknown) => {
      console.error(`[kafka] ${error instanceof BrokerError ? error.message : String(error)}`);
      process.exitCode = 1;
    });
}
