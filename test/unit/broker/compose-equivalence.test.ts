import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { load } from 'js-yaml';
import { CLUSTER_ID, KAFKA_VERSION, serverProperties } from '../../../broker/broker';
import { REGISTRY_PORT } from '../../../broker/registry';
import {
  CONTAINER_DATA_DIR,
  CONTAINER_DIR,
  prepareSecureFiles,
  SECURE_CLUSTER_ID,
  SECURE_PORTS,
  SECURE_USER,
} from '../../../broker/secure';

const ROOT = resolve(__dirname, '..', '..', '..');

/** The apache/kafka image's rule: drop KAFKA_, then `___` → `-`, `__` → `_`, `_` → `.`, lower case. */
function propertyName(variable: string): string {
  return variable
    .slice('KAFKA_'.length)
    .toLowerCase()
    .split('___')
    .map((part) =>
      part
        .split('__')
        .map((p) => p.replace(/_/g, '.'))
        .join('_'),
    )
    .join('-');
}

interface Compose {
  services: {
    kafka: { image: string; environment: Record<string, string | number> };
    'kafka-ui': { profiles: string[]; network_mode: string; environment: Record<string, string> };
  };
}

describe('docker-compose.yml and the jar broker', () => {
  const compose = load(readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8')) as Compose;
  const service = compose.services.kafka;
  const fromCompose = new Map(
    Object.entries(service.environment)
      .filter(([name]) => name.startsWith('KAFKA_') && name !== 'KAFKA_HEAP_OPTS')
      .map(([name, value]) => [propertyName(name), String(value).replace(/\$\{KAFKA_PORT:-(\d+)\}/g, '$1')]),
  );
  const fromJar = new Map(
    serverProperties('127.0.0.1', 9092)
      .split('\n')
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );

  it('run the same Kafka version with the same cluster id', () => {
    expect(service.image).toBe(`apache/kafka:${KAFKA_VERSION}`);
    expect(service.environment.CLUSTER_ID).toBe(CLUSTER_ID);
    expect(readFileSync(resolve(ROOT, 'broker', 'pom.xml'), 'utf8')).toContain(
      `<kafka.version>${KAFKA_VERSION}</kafka.version>`,
    );
  });

  it('set the same broker properties', () => {
    // where each side must differ: inside a container the listeners bind all interfaces and the
    // controller is reached as localhost; the jar broker binds loopback only and has a data folder
    const differ = new Set(['listeners', 'controller.quorum.voters', 'log.dirs']);
    const keys = new Set([...fromCompose.keys(), ...fromJar.keys()].filter((k) => !differ.has(k)));
    const mismatches = [...keys].filter((k) => fromCompose.get(k) !== fromJar.get(k));
    expect(mismatches.map((k) => `${k}: compose=${fromCompose.get(k)} jar=${fromJar.get(k)}`)).toEqual([]);
    expect(fromCompose.get('listeners')).toBe('PLAINTEXT://:9092,CONTROLLER://:9093');
    expect(fromJar.get('listeners')).toBe('PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093');
    expect(fromCompose.get('auto.create.topics.enable')).toBe('false');
  });

  it('offer the web UI only under the ui profile, reading the broker at the address it advertises', () => {
    const ui = compose.services['kafka-ui'];
    expect(ui.profiles).toEqual(['ui']); // `npm run broker -- up` starts the kafka service alone
    // 127.0.0.1 is the broker only from the host's network
    expect(ui.network_mode).toBe('host');
    expect(service.environment.KAFKA_ADVERTISED_LISTENERS).toBe(
      `PLAINTEXT://${ui.environment.KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS}`,
    );
    expect(ui.environment.SERVER_ADDRESS).toBe('127.0.0.1');
  });
});

describe("docker-compose.yml's kafka-secure and the jar secured broker", () => {
  const compose = load(readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8')) as {
    services: Record<
      string,
      {
        image: string;
        profiles: string[];
        network_mode: string;
        volumes: string[];
        command: string[];
        healthcheck: { test: string[] };
      }
    >;
  };
  const service = compose.services['kafka-secure']!;
  const dir = mkdtempSync(join(tmpdir(), 'secure-compose-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('run the same Kafka, cluster id and SCRAM user, reading the files up --secure writes, on the host network', () => {
    expect(service.image).toBe(`apache/kafka:${KAFKA_VERSION}`);
    expect(service.profiles).toEqual(['secure']); // `npm run broker -- up` starts the plain broker alone
    expect(service.network_mode).toBe('host'); // listeners on 127.0.0.1, like the jar broker's
    expect(service.volumes).toEqual([`./.cache/broker-secure:${CONTAINER_DIR}:ro`]);
    const command = service.command.join(' ');
    expect(command).toContain(`-t ${SECURE_CLUSTER_ID} -c ${CONTAINER_DIR}/server.docker.properties`);
    expect(command).toContain(`'SCRAM-SHA-512=[name=${SECURE_USER.username},password=${SECURE_USER.password}]'`);
    expect(command).toContain(`kafka-server-start.sh ${CONTAINER_DIR}/server.docker.properties`);
    expect(service.healthcheck.test.join(' ')).toContain(`--bootstrap-server 127.0.0.1:${SECURE_PORTS.plaintext}`);
  });

  it('get the jar broker’s settings, with paths the container can read', () => {
    prepareSecureFiles(dir, SECURE_PORTS, SECURE_USER);
    const read = (file: string) =>
      new Map(
        readFileSync(join(dir, file), 'utf8')
          .split('\n')
          .filter((line) => line && !line.startsWith('#'))
          .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
      );
    const jar = read('server.properties');
    const docker = read('server.docker.properties');
    expect([...docker.keys()].sort()).toEqual([...jar.keys()].sort());
    const differ = [...jar.keys()].filter((key) => jar.get(key) !== docker.get(key));
    // exactly the paths differ, each naming the same file under the container's mount (or its data dir)
    for (const key of differ) {
      const path = docker.get(key)!;
      if (key === 'log.dirs') expect(path).toBe(CONTAINER_DATA_DIR);
      else expect(join(dir, relative(CONTAINER_DIR, path))).toBe(jar.get(key));
    }
    expect(differ.sort()).toEqual(
      ['listener.name.mtls.ssl.truststore.location', 'log.dirs', 'ssl.keystore.location'].sort(),
    );
    // the container reads the keystore as its own user
    expect(statSync(join(dir, 'broker.p12')).mode & 0o044).toBe(0o044);
  });
});

describe("docker-compose.yml's schema-registry and npm run registry", () => {
  it('serve the same REST API on the same loopback port, the Docker one only under its profile', () => {
    const compose = load(readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { profiles: string[]; network_mode: string; environment: Record<string, string> }>;
    };
    const registry = compose.services['schema-registry']!;
    expect(registry.profiles).toEqual(['registry']);
    expect(registry.network_mode).toBe('host');
    expect(registry.environment.SCHEMA_REGISTRY_LISTENERS).toBe(`http://127.0.0.1:${REGISTRY_PORT}`);
    expect(registry.environment.SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS).toBe(
      `PLAINTEXT://${compose.services.kafka!.environment.KAFKA_ADVERTISED_LISTENERS!.replace('PLAINTEXT://', '')}`,
    );
  });
});
