/**
 * What `npm run package:aws` produces for AWS (stage "example", deploy/params.example.yml), checked on
 * the generated CloudFormation: the mappings, runtime, VPC, environment, IAM and the topics resource.
 * The expectations are read from serverless.yml's own events, so new Kafka functions are covered.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import JSZip from 'jszip';
import { TOPICS } from '../../../lib/kafka/topics';
import { kafkaArns } from '../../../deploy/iam';
import { packageStage, ROOT, testStage, type CfnResource, type Packaged } from './package';
import { cfnLint, expectMappingsMatchEvents, functionLogicalId, mskMappings } from './template-checks';

const params = (() => {
  const text = readFileSync(join(ROOT, 'deploy', 'params.example.yml'), 'utf8');
  const value = (key: string) => new RegExp(`^${key}: (\\S+)`, 'm').exec(text)![1]!;
  const list = (key: string) =>
    [...new RegExp(`^${key}:\\n((?:  - \\S+\\n)+)`, 'm').exec(text)![1]!.matchAll(/- (\S+)/g)].map((m) => m[1]!);
  return {
    clusterArn: value('mskClusterArn'),
    schemaRegistryUrl: value('schemaRegistryUrl'),
    subnets: list('subnetIds'),
    securityGroups: list('securityGroupIds'),
  };
})();
const arns = kafkaArns(params.clusterArn);

interface Statement {
  Effect: string;
  Action: string[];
  Resource: unknown;
}

let pkg: Packaged;
let resources: Record<string, CfnResource>;

beforeAll(() => {
  pkg = packageStage('example');
  if (pkg.status !== 0) throw new Error(`serverless package failed:\n${pkg.output}`);
  resources = pkg.template!.Resources;
}, 300_000);

afterAll(() => pkg?.cleanup());

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const statementsOf = (functionId: string): Statement[] => {
  const role = (resources[functionId]!.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
  const policies = resources[role]!.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
};
/** every resource a function's role allows `action` on */
const allowed = (functionId: string, action: string): string[] =>
  statementsOf(functionId)
    .filter((s) => s.Action.includes(action))
    .flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]) as string[])
    .sort();

/** every msk event of serverless.yml, resolved, with its function */
const mskEvents = () => mskMappings(pkg);

describe('npm run package:aws (the example AWS stage)', () => {
  it('has one event source mapping per msk event, with its cluster, topic, group, position, batch, window and retry settings', () => {
    expectMappingsMatchEvents(pkg);
    for (const { mappings } of mskMappings(pkg)) {
      expect(mappings[0]!.Properties.EventSourceArn).toBe(params.clusterArn);
    }
  });

  it('runs every function on nodejs22.x inside the VPC of the parameters', () => {
    const functions = ofType('AWS::Lambda::Function');
    expect(functions.length).toBe(Object.keys(pkg.service!.functions).length);
    for (const [id, fn] of functions) {
      expect({ id, runtime: fn.Properties.Runtime }).toEqual({ id, runtime: 'nodejs22.x' });
      expect(fn.Properties.VpcConfig).toEqual({ SubnetIds: params.subnets, SecurityGroupIds: params.securityGroups });
    }
  });

  it('configures the functions for MSK: cluster ARN and IAM auth, no local broker address', () => {
    for (const [, fn] of ofType('AWS::Lambda::Function')) {
      const variables = (fn.Properties.Environment as { Variables: Record<string, string> }).Variables;
      expect(variables.MSK_CLUSTER_ARN).toBe(params.clusterArn);
      expect(variables.KAFKA_AUTH).toBe('iam');
      expect(variables).not.toHaveProperty('KAFKA_BROKERS');
      expect(variables.SCHEMA_REGISTRY_URL).toBe(params.schemaRegistryUrl);
    }
  });

  it("reads order-analytics's Avro with the stage's schema registry, filtering on the decoded value", () => {
    const [revenue] = mskMappings(pkg).filter(({ event }) => /order-analytics$/.test(String(event.topic)));
    expect(revenue!.mappings[0]!.Properties).toMatchObject({
      AmazonManagedKafkaEventSourceConfig: {
        SchemaRegistryConfig: {
          SchemaRegistryURI: params.schemaRegistryUrl,
          EventRecordFormat: 'JSON',
          SchemaValidationConfigs: [{ Attribute: 'VALUE' }],
        },
      },
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ value: { payload: { outcome: ['fulfilled'] } } }) }] },
    });
  });

  it('gives every function its own role; the shared framework role is gone', () => {
    const roles = ofType('AWS::Lambda::Function').map(
      ([, fn]) => (fn.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0],
    );
    expect(new Set(roles).size).toBe(roles.length);
    expect(resources).not.toHaveProperty('IamRoleLambdaExecution');
  });

  it('never allows kafka-cluster or kafka actions with a wildcard action or on "*"', () => {
    for (const [id] of ofType('AWS::Lambda::Function')) {
      for (const statement of statementsOf(id)) {
        const kafka = statement.Action.filter((a) => a.startsWith('kafka'));
        if (kafka.length === 0) continue;
        expect({ id, wildcardAction: kafka.filter((a) => a.includes('*')) }).toEqual({ id, wildcardAction: [] });
        const targets = (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]) as string[];
        for (const target of targets) {
          expect(
            target === arns.cluster || target.startsWith(arns.topic('')) || target.startsWith(arns.group('')),
          ).toBe(true);
        }
      }
    }
  });

  it('lets a Kafka-triggered function read only its topics and use only its group', () => {
    const byFunction = new Map<string, { topics: string[]; groups: string[] }>();
    for (const { key, event } of mskEvents()) {
      const entry = byFunction.get(key) ?? { topics: [], groups: [] };
      entry.topics.push(String(event.topic));
      entry.groups.push(String(event.consumerGroupId));
      byFunction.set(key, entry);
    }
    for (const [key, { topics, groups }] of byFunction) {
      const id = functionLogicalId(key);
      const extraReads =
        (pkg.service!.functions[key] as { kafkaConsumes?: { topic: string; group: string }[] }).kafkaConsumes ?? [];
      expect(allowed(id, 'kafka-cluster:ReadData')).toEqual(
        [...new Set([...topics, ...extraReads.map((c) => c.topic)])].map(arns.topic).sort(),
      );
      expect(allowed(id, 'kafka-cluster:AlterGroup')).toEqual(
        [...new Set([...groups, ...extraReads.map((c) => c.group)])].map(arns.group).sort(),
      );
      expect(allowed(id, 'kafka-cluster:DescribeGroup')).toEqual(allowed(id, 'kafka-cluster:AlterGroup'));
      expect(allowed(id, 'kafka-cluster:Connect')).toEqual([arns.cluster]);
      expect(allowed(id, 'kafka:DescribeClusterV2')).toEqual([arns.cluster]);
      expect(allowed(id, 'kafka:GetBootstrapBrokers')).toEqual([arns.cluster]);
      expect(allowed(id, 'ec2:CreateNetworkInterface')).toEqual(['*']);
      expect(allowed(id, 'ec2:DescribeSubnets')).toEqual(['*']);
    }
  });

  it('lets a function write only the topics it declares, its failure destination and, for a responder, its reply topics', () => {
    for (const [key, fn] of Object.entries(pkg.service!.functions)) {
      if (key === 'ensure-topics') continue;
      const declared = (fn as { kafkaProduces?: string[] }).kafkaProduces ?? [];
      const destinations = (fn.events ?? [])
        .map((e) => e.msk?.onFailureDestination)
        .filter((d): d is string => typeof d === 'string' && d.startsWith('kafka://'))
        .map((d) => d.slice('kafka://'.length));
      const replies = key === 'price-quote' ? ['quote-replies'] : [];
      const expected = [...declared, ...destinations, ...replies];
      const id = functionLogicalId(key);
      expect({ key, writes: allowed(id, 'kafka-cluster:WriteData') }).toEqual({
        key,
        writes: [...new Set(expected)].map(arns.topic).sort(),
      });
      // the producers are not idempotent (lib/kafka/producer.ts): nobody needs it
      expect(allowed(id, 'kafka-cluster:WriteDataIdempotently')).toEqual([]);
    }
  });

  it('creates the declared topics during the deploy, before any mapping starts', () => {
    const [, topics] = ofType('Custom::KafkaTopics')[0]!;
    expect(topics.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': ['EnsureDashtopicsLambdaFunction', 'Arn'] });
    expect(JSON.parse(String(topics.Properties.Topics))).toEqual(JSON.parse(JSON.stringify(TOPICS)));
    expect(allowed('EnsureDashtopicsLambdaFunction', 'kafka-cluster:CreateTopic')).toEqual(
      TOPICS.map((t) => arns.topic(t.name)).sort(),
    );
    for (const [id, mapping] of ofType('AWS::Lambda::EventSourceMapping')) {
      expect({ id, dependsOn: mapping.DependsOn }).toEqual({ id, dependsOn: expect.arrayContaining(['KafkaTopics']) });
    }
  });

  it('passes cfn-lint', () => {
    expect(cfnLint(pkg.templateFile)).toEqual({ status: 0, output: '' });
  });

  it('only lets functions write topics that lib/kafka/topics.ts declares (so the deploy creates them)', () => {
    const declared = new Set<string>(TOPICS.map((t) => t.name));
    const written = Object.values(pkg.service!.functions).flatMap(
      (fn) => (fn as { kafkaProduces?: string[] }).kafkaProduces ?? [],
    );
    expect(written.length).toBeGreaterThan(0);
    expect(written.filter((t) => !declared.has(t))).toEqual([]);
  });

  describe('what each function ships (cold start)', () => {
    /** every function's artifact: its zip's file names and its handler bundle and source map */
    let artifacts: { id: string; key: string; handlerFile: string; files: string[]; bundle: string; map?: string }[];
    beforeAll(async () => {
      artifacts = await Promise.all(
        ofType('AWS::Lambda::Function').map(async ([id, fn]) => {
          const key = (fn.Properties.Code as { S3Key: string }).S3Key;
          const zip = await JSZip.loadAsync(readFileSync(join(pkg.dir, basename(key))));
          const handlerFile = `${String(fn.Properties.Handler).replace(/\.[^.]+$/, '')}.js`;
          return {
            id,
            key,
            handlerFile,
            files: Object.keys(zip.files),
            bundle: await zip.file(handlerFile)!.async('string'),
            map: await zip.file(`${handlerFile}.map`)?.async('string'),
          };
        }),
      );
    });

    it('packages every function on its own: one artifact each, holding only its handler and source map', () => {
      expect(artifacts.length).toBe(Object.keys(pkg.service!.functions).length);
      expect(new Set(artifacts.map((a) => a.key)).size).toBe(artifacts.length);
      for (const { id, handlerFile, files } of artifacts) {
        expect({ id, files: files.filter((f) => !f.endsWith('/')).sort() }).toEqual({
          id,
          files: [handlerFile, `${handlerFile}.map`],
        });
      }
    });

    it('minifies each bundle and keeps its source map beside it, not linked (nothing reads it at cold start)', () => {
      for (const { id, bundle, map } of artifacts) {
        const lines = bundle.split('\n');
        expect({ id, averageLineLength: bundle.length / lines.length > 1000 }).toEqual({ id, averageLineLength: true });
        expect({ id, linked: /sourceMappingURL/.test(bundle) }).toEqual({ id, linked: false });
        expect({ id, mapSources: JSON.parse(map!).sources.length > 0 }).toEqual({ id, mapSources: true });
      }
    });

    it('carries no code of the local event source plugin, and the kafkajs fixes it shares with it', () => {
      for (const { id, bundle, map } of artifacts) {
        const sources = (JSON.parse(map!) as { sources: string[] }).sources;
        expect({
          id,
          // every file esbuild bundled is a source of the map (paths relative to the bundle)
          plugin: sources.filter((s) => /serverless-offline-kafka\//.test(s)),
          // and string literals of its partition worker and plugin survive minification
          pluginLiterals: ['RetriesExhausted', '"serverless-offline-kafka"'].filter((s) => bundle.includes(s)),
          resilience: sources.some((s) => /kafkajs-resilience\/dist\/idle-timer-fix\.js$/.test(s)),
        }).toEqual({ id, plugin: [], pluginLiterals: [], resilience: true });
      }
    });

    it("loads from the runtime's AWS SDK v3 only the packages serverless.yml excludes, and ships no node_modules", () => {
      const fromRuntime = (pkg.service as unknown as { custom: { esbuild: { exclude: string[] } } }).custom.esbuild
        .exclude;
      expect(fromRuntime).toEqual(expect.arrayContaining(['@aws-sdk/client-kafka', '@aws-sdk/client-secrets-manager']));
      for (const { id, bundle, files } of artifacts) {
        const required = [...new Set([...bundle.matchAll(/require\("(@aws-sdk\/[^"]+)"\)/g)].map((m) => m[1]!))];
        expect({ id, notInRuntimeList: required.filter((m) => !fromRuntime.includes(m)) }).toEqual({
          id,
          notInRuntimeList: [],
        });
        expect({ id, nodeModules: files.filter((f) => f.startsWith('node_modules/')) }).toEqual({
          id,
          nodeModules: [],
        });
        // a bundled SDK client alone would be larger than this whole budget
        expect({ id, underBudget: bundle.length < 600 * 1024 }).toEqual({ id, underBudget: true });
      }
    });
  });
});

describe('package for an AWS stage whose schema registry is Glue', () => {
  const registry = 'arn:aws:glue:eu-west-1:123456789012:registry/orders';
  let glue: Packaged;

  beforeAll(() => {
    const text = readFileSync(join(ROOT, 'deploy', 'params.example.yml'), 'utf8').replace(
      /^schemaRegistryUrl: .*$/m,
      `schemaRegistryUrl: ${registry}`,
    );
    glue = packageStage(testStage('glue'), text);
    if (glue.status !== 0) throw new Error(`serverless package failed:\n${glue.output}`);
  }, 300_000);
  afterAll(() => glue?.cleanup());

  const glueStatements = (name: string) => {
    const resources = glue.template!.Resources;
    const [, fn] = Object.entries(resources).find(
      ([, r]) => r.Type === 'AWS::Lambda::Function' && String(r.Properties.FunctionName).endsWith(`-${name}`),
    )!;
    const role = (fn.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
    return (resources[role]!.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[])
      .flatMap((p) => p.PolicyDocument.Statement)
      .filter((st) => st.Action.some((a) => a.startsWith('glue:')));
  };

  it('reads order-analytics with the Glue registry, which update-analytics may register exactly its schema in', () => {
    const [revenue] = mskMappings(glue).filter(({ event }) => /order-analytics$/.test(String(event.topic)));
    expect(revenue!.mappings[0]!.Properties).toMatchObject({
      AmazonManagedKafkaEventSourceConfig: { SchemaRegistryConfig: { SchemaRegistryURI: registry } },
    });
    const schema = 'arn:aws:glue:eu-west-1:123456789012:schema/orders/order-analytics';
    expect(glueStatements('update-analytics')).toEqual([
      { Effect: 'Allow', Action: ['glue:CreateSchema', 'glue:RegisterSchemaVersion'], Resource: [registry, schema] },
    ]);
    expect(glueStatements('record-revenue')).toEqual([
      { Effect: 'Allow', Action: ['glue:GetRegistry'], Resource: [registry] },
      {
        Effect: 'Allow',
        Action: ['glue:GetSchemaVersion'],
        Resource: [registry, 'arn:aws:glue:eu-west-1:123456789012:schema/orders/*'],
      },
    ]);
    expect(glueStatements('fulfil-order')).toEqual([]);
  });

  it('passes cfn-lint', () => {
    expect(cfnLint(glue.templateFile)).toEqual({ status: 0, output: '' });
  });
});

describe('package with QUOTE_REPLY_TOPIC set', () => {
  let custom: Packaged;

  beforeAll(() => {
    custom = packageStage('example', undefined, { env: { QUOTE_REPLY_TOPIC: 'quotes.replies' } });
    if (custom.status !== 0) throw new Error(`serverless package failed:\n${custom.output}`);
  }, 300_000);

  afterAll(() => custom?.cleanup());

  const allowedIn = (id: string, action: string) => {
    const saved = resources;
    resources = custom.template!.Resources;
    try {
      return allowed(id, action);
    } finally {
      resources = saved;
    }
  };

  it('lets price-quote write its replies to that topic and to nothing else', () => {
    expect(allowedIn(functionLogicalId('price-quote'), 'kafka-cluster:WriteData')).toEqual([
      arns.topic('quotes.replies'),
    ]);
  });

  it('lets POST /quotes read replies from that topic, and creates it during the deploy', () => {
    expect(allowedIn(functionLogicalId('quote'), 'kafka-cluster:ReadData')).toEqual([arns.topic('quotes.replies')]);
    expect(allowedIn('EnsureDashtopicsLambdaFunction', 'kafka-cluster:CreateTopic')).toContain(
      arns.topic('quotes.replies'),
    );
    expect(allowedIn('EnsureDashtopicsLambdaFunction', 'kafka-cluster:CreateTopic')).not.toContain(
      arns.topic('quote-replies'),
    );
  });
});

describe('package for an AWS stage with SCRAM auth', () => {
  const secret = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_orders-AbCdEf';
  const key = 'arn:aws:kms:eu-west-1:123456789012:key/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d';
  let scram: Packaged;

  beforeAll(() => {
    const text = readFileSync(join(ROOT, 'deploy', 'params.example.yml'), 'utf8')
      .replace(/^auth: iam$/m, 'auth: scram')
      .replace(/^# saslScramSecretArn: .*$/m, `saslScramSecretArn: ${secret}`)
      .replace(/^# saslScramKmsKeyArn: .*$/m, `saslScramKmsKeyArn: ${key}`);
    scram = packageStage(testStage('scram'), text);
    if (scram.status !== 0) throw new Error(`serverless package failed:\n${scram.output}`);
  }, 300_000);

  afterAll(() => scram?.cleanup());

  it('gives every mapping the SCRAM secret, every function the secret ARN and the right to read only that secret', () => {
    const res = scram.template!.Resources;
    const mappings = Object.values(res).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
    expect(mappings.length).toBeGreaterThan(0);
    for (const mapping of mappings) {
      expect(mapping.Properties.SourceAccessConfigurations).toEqual([{ Type: 'SASL_SCRAM_512_AUTH', URI: secret }]);
    }
    for (const [id, fn] of Object.entries(res).filter(([, r]) => r.Type === 'AWS::Lambda::Function')) {
      const variables = (fn.Properties.Environment as { Variables: Record<string, string> }).Variables;
      expect(variables).toMatchObject({ KAFKA_AUTH: 'scram', KAFKA_SASL_SECRET_ARN: secret });
      const role = (fn.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
      const statements = (res[role]!.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[]).flatMap(
        (p) => p.PolicyDocument.Statement,
      );
      expect(
        statements.filter((s) => s.Action.includes('secretsmanager:GetSecretValue')).map((s) => s.Resource),
      ).toEqual([secret]);
      expect(statements.filter((s) => s.Action.includes('kms:Decrypt')).map((s) => s.Resource)).toEqual([key]);
      // SCRAM clusters authorize topics with Kafka ACLs: IAM kafka-cluster actions would be dead weight
      expect({
        id,
        kafkaCluster: statements.flatMap((s) => s.Action).filter((a) => a.startsWith('kafka-cluster:')),
      }).toEqual({ id, kafkaCluster: [] });
    }
  });

  it('passes cfn-lint', () => {
    expect(cfnLint(scram.templateFile)).toEqual({ status: 0, output: '' });
  });
});

describe('package with wrong or missing parameters', () => {
  it('fails when the stage has no parameter file, naming the file to create', () => {
    const stage = testStage('none');
    const result = packageStage(stage);
    result.cleanup();
    expect(result.status).not.toBe(0);
    expect(result.output).toContain(`no parameter file deploy/params.${stage}.yml`);
    expect(result.template).toBeUndefined();
  });

  it('fails naming every wrong or missing parameter at once', () => {
    const result = packageStage(
      testStage('bad'),
      [
        'region: eu-west-1',
        'mskClusterArn: arn:aws:kafka:us-east-1:123456789012:cluster/orders/abc-1',
        'auth: scram',
        'subnetIds: [subnet-123]',
        'securityGroupIds: []',
        'brokers: b-1:9098',
        '',
      ].join('\n'),
    );
    result.cleanup();
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('unknown parameter brokers');
    expect(result.output).toMatch(/subnetIds\.0 must be subnet ids/);
    expect(result.output).toMatch(/securityGroupIds needs at least one security group/);
    expect(result.template).toBeUndefined();
  });

  it('fails on parameters that are each valid but do not fit together', () => {
    const result = packageStage(
      testStage('mix'),
      readFileSync(join(ROOT, 'deploy', 'params.example.yml'), 'utf8')
        .replace(/^auth: iam$/m, 'auth: scram')
        .replace(/^region: eu-west-1$/m, 'region: us-east-1'),
    );
    result.cleanup();
    expect(result.status).not.toBe(0);
    expect(result.output).toContain('saslScramSecretArn is required when auth is scram');
    expect(result.output).toContain('mskClusterArn is in eu-west-1 but region is us-east-1');
  });
});
