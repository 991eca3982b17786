import ServerlessOfflineKafka from '../../src/plugin';

/** A minimal stand-in for the framework: enough for the schema extension and the package hook. */
function frameworkWith(events: Array<Record<string, unknown>>) {
  const schemas: Record<string, object> = {};
  const resources: Record<string, { Type: string; Properties: Record<string, unknown> }> = {
    WorkerEventSourceMappingMSKClusterOrders: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: {
        EventSourceArn: 'arn:aws:kafka:eu-west-1:1:cluster/c/u',
        FunctionName: { 'Fn::GetAtt': ['WorkerLambdaFunction', 'Arn'] },
        Topics: ['orders'],
        StartingPosition: 'TRIM_HORIZON',
      },
    },
    WorkerEventSourceMappingKafkaOrders: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: {
        SelfManagedEventSource: { Endpoints: { KafkaBootstrapServers: ['b:9092'] } },
        FunctionName: { 'Fn::GetAtt': ['WorkerLambdaFunction', 'Arn'] },
        Topics: ['orders'],
      },
    },
  };
  const serverless = {
    serviceDir: '/srv/shop',
    service: {
      service: 'shop',
      provider: { compiledCloudFormationTemplate: { Resources: resources } },
      getAllFunctions: () => ['worker'],
      getFunction: () => ({ events }),
    },
    configSchemaHandler: {
      defineFunctionEventProperties: (_provider: string, event: string, schema: object) => {
        schemas[event] = schema;
      },
    },
    getProvider: () => ({
      naming: { getLambdaLogicalId: (key: string) => `${key[0]!.toUpperCase()}${key.slice(1)}LambdaFunction` },
    }),
  };
  return { serverless, schemas, resources };
}

describe('configured once, reaching CloudFormation', () => {
  it('extends the msk and kafka event schemas with the retry, schema registry, metrics and logging settings', () => {
    const { serverless, schemas } = frameworkWith([]);
    new ServerlessOfflineKafka(serverless, {});
    expect(Object.keys((schemas.msk as { properties: object }).properties).sort()).toEqual(
      [
        'bisectBatchOnFunctionError',
        'functionResponseType',
        'loggingConfig',
        'maximumRecordAgeInSeconds',
        'maximumRetryAttempts',
        'metricsConfig',
        'onFailureDestination',
        'schemaRegistryConfig',
      ].sort(),
    );
    // kafka events already have onFailureDestination in the framework
    expect((schemas.kafka as { properties: object }).properties).not.toHaveProperty('onFailureDestination');
  });

  it('writes the settings, and window 0, into the generated event source mappings', () => {
    const { serverless, resources } = frameworkWith([
      {
        msk: {
          arn: 'arn:aws:kafka:eu-west-1:1:cluster/c/u',
          topic: 'orders',
          maximumBatchingWindow: 0,
          maximumRetryAttempts: 3,
          maximumRecordAgeInSeconds: 3600,
          bisectBatchOnFunctionError: true,
          functionResponseType: 'ReportBatchItemFailures',
          onFailureDestination: 'kafka://orders-dlq',
        },
      },
      {
        kafka: {
          topic: 'orders',
          bootstrapServers: ['b:9092'],
          maximumRetryAttempts: 5,
          provisionedPollerConfig: { minimumPollers: 1 },
          schemaRegistryConfig: {
            schemaRegistryURI: 'https://registry.example.com',
            eventRecordFormat: 'SOURCE',
            schemaValidationConfigs: [{ attribute: 'VALUE' }],
            accessConfigs: [{ type: 'BASIC_AUTH', uri: 'arn:aws:secretsmanager:eu-west-1:1:secret:sr' }],
          },
        },
      },
    ]);
    const plugin = new ServerlessOfflineKafka(serverless, {});
    (plugin.hooks['after:package:compileEvents'] as () => void)();
    expect(resources.WorkerEventSourceMappingMSKClusterOrders!.Properties).toMatchObject({
      MaximumBatchingWindowInSeconds: 0,
      MaximumRetryAttempts: 3,
      MaximumRecordAgeInSeconds: 3600,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: 'kafka://orders-dlq' } },
    });
    expect(resources.WorkerEventSourceMappingKafkaOrders!.Properties).toMatchObject({
      MaximumRetryAttempts: 5,
      SelfManagedKafkaEventSourceConfig: {
        SchemaRegistryConfig: {
          SchemaRegistryURI: 'https://registry.example.com',
          EventRecordFormat: 'SOURCE',
          SchemaValidationConfigs: [{ Attribute: 'VALUE' }],
          AccessConfigs: [{ Type: 'BASIC_AUTH', URI: 'arn:aws:secretsmanager:eu-west-1:1:secret:sr' }],
        },
      },
    });
    expect(resources.WorkerEventSourceMappingMSKClusterOrders!.Properties).not.toHaveProperty(
      'AmazonManagedKafkaEventSourceConfig.SchemaRegistryConfig',
    );
    expect(resources.WorkerEventSourceMappingKafkaOrders!.Properties).not.toHaveProperty('FunctionResponseTypes');
  });
});
