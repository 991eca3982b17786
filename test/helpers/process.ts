/** Child processes a test starts and stops by pid (shared with the serverless-offline-kafka package's tests). */
export * from '../../packages/serverless-offline-kafka/test/helpers/process';
