/**
 * The CloudFormation custom resource that creates the declared topics (lib/kafka/topics.ts) on the MSK
 * cluster during `serverless deploy`, from inside the VPC, with the same code `npm start` uses locally.
 * Idempotent: existing topics are left alone. Deleting the stack deletes no topic (they hold data).
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { rootMessage, withDeadline } from '../lib/deadline';
import { declaredTopics, ensureTopics } from '../lib/kafka/topics';
import { runtime } from '../lib/runtime';

export interface CustomResourceResponse {
  Status: 'SUCCESS' | 'FAILED';
  Reason?: string;
  PhysicalResourceId: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  Data?: Record<string, string>;
}

/** PUT the answer to CloudFormation's presigned URL (it waits for this, not for the function's return). */
function sendResponse(url: string, body: CustomResourceResponse): Promise<void> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    // CloudFormation always gives https; plain http is for tests
    const request = url.startsWith('http:') ? httpRequest : httpsRequest;
    const req = request(
      url,
      // CloudFormation's presigned S3 URL is signed for an empty content type
      { method: 'PUT', headers: { 'content-type': '', 'content-length': Buffer.byteLength(text) } },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode && res.statusCode < 300 ? resolve() : reject(new Error(`status ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/**
 * Create the declared topics on Create and Update; do nothing on Delete. Always answers CloudFormation,
 * with the reason when it fails, so a deploy fails fast instead of waiting for the resource timeout.
 */
export async function handler(event: CloudFormationCustomResourceEvent, context: Context): Promise<void> {
  const physicalId =
    'PhysicalResourceId' in event ? event.PhysicalResourceId : `kafka-topics-${event.LogicalResourceId}`;
  const base = {
    PhysicalResourceId: physicalId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  };
  let answer: CustomResourceResponse;
  try {
    if (event.RequestType === 'Delete') {
      answer = { ...base, Status: 'SUCCESS', Reason: 'topics are kept: delete them with the Kafka admin tools' };
    } else {
      const { config, kafka, logger } = runtime();
      const topics = declaredTopics(config);
      const admin = kafka.admin();
      // CloudFormation must get an answer before the function dies
      const ms = Math.max(5_000, context.getRemainingTimeInMillis() - 5_000);
      const result = await withDeadline(
        (async () => {
          await admin.connect();
          try {
            return await ensureTopics(admin, topics, logger);
          } finally {
            await admin.disconnect();
          }
        })(),
        ms,
        () => new Error(`the MSK cluster did not answer within ${Math.round(ms / 1000)} s`),
      );
      logger.info(result, 'kafka topics ensured');
      answer = {
        ...base,
        Status: 'SUCCESS',
        Data: { Created: result.created.join(','), Existing: result.existing.join(',') },
      };
    }
  } catch (error) {
    answer = { ...base, Status: 'FAILED', Reason: `creating the Kafka topics failed: ${rootMessage(error)}` };
  }
  await sendResponse(event.ResponseURL, answer);
}
