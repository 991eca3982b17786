import { kafkaToolCommand } from '../../../broker/tools';

/** How `npm run kafka` runs a tool: the integration test runs the jar side; Docker is not on every machine. */
describe('npm run kafka command line', () => {
  it('runs the script of the apache/kafka image inside the compose service, on the broker port', () => {
    const { command, args } = kafkaToolCommand('topics', ['--list'], 'docker', { KAFKA_BROKERS: '127.0.0.1:19092' });
    expect([command, ...args].join(' ')).toBe(
      'docker compose exec -T -e KAFKA_HEAP_OPTS=-Xmx256m kafka /opt/kafka/bin/kafka-topics.sh ' +
        '--bootstrap-server 127.0.0.1:19092 --list',
    );
  });

  it("runs the tool's main class from the jars with every address of KAFKA_BROKERS", () => {
    const { command, args } = kafkaToolCommand('consumer-groups', ['--describe', '--all-groups'], 'jar', {
      KAFKA_BROKERS: '127.0.0.1:9092,127.0.0.1:9094',
    });
    expect(command).toBe('java');
    expect(args.slice(-5)).toEqual([
      'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
      '--bootstrap-server',
      '127.0.0.1:9092,127.0.0.1:9094',
      '--describe',
      '--all-groups',
    ]);
  });

  it('leaves a bootstrap address the user gave alone', () => {
    const { args } = kafkaToolCommand('metadata-quorum', ['--bootstrap-controller', 'h:9093', 'describe'], 'jar', {});
    expect(args.filter((a) => a.startsWith('--bootstrap'))).toEqual(['--bootstrap-controller']);
  });
});
