/**
 * Where the local broker listens when KAFKA_BROKERS is not set: the one default of `npm run broker`,
 * `npm start`, the scripts, the benchmarks and the tests (serverless.yml falls back to the same address;
 * test/unit/serverless-config.test.ts checks it).
 */
export const DEFAULT_BROKERS = '127.0.0.1:9092';

/** KAFKA_BROKERS of `env`, else the local broker. */
export const brokersOf = (env: NodeJS.ProcessEnv = process.env): string => env.KAFKA_BROKERS || DEFAULT_BROKERS;
