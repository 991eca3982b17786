import { Readable } from 'node:stream';
import { KafkaClient } from '@aws-sdk/client-kafka';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** What the stubbed AWS HTTP layer saw: the signed request the real SDK built. */
export interface SeenRequest {
  method: string;
  hostname: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface StubResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  return '';
}

/**
 * A real AWS SDK v3 client whose HTTP layer answers from `respond` instead of the network: requests are
 * serialized and signed by the SDK and responses parsed by it, exactly as against AWS.
 */
function stubbedHandler(respond: (request: SeenRequest) => StubResponse) {
  const seen: SeenRequest[] = [];
  const requestHandler = {
    async handle(request: {
      method: string;
      hostname: string;
      path: string;
      headers: Record<string, string>;
      body?: unknown;
    }) {
      const seenRequest: SeenRequest = {
        method: request.method,
        hostname: request.hostname,
        path: request.path,
        headers: request.headers,
        body: bodyText(request.body),
      };
      seen.push(seenRequest);
      const answer = respond(seenRequest);
      return {
        response: {
          statusCode: answer.status,
          headers: { 'content-type': 'application/json', ...answer.headers },
          body: Readable.from([Buffer.from(JSON.stringify(answer.body))]),
        },
      };
    },
  };
  return { requestHandler, seen };
}

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

export function stubKafkaClient(region: string, respond: (request: SeenRequest) => StubResponse) {
  const { requestHandler, seen } = stubbedHandler(respond);
  return { client: new KafkaClient({ region, credentials, requestHandler, maxAttempts: 1 }), seen };
}

export function stubSecretsManagerClient(region: string, respond: (request: SeenRequest) => StubResponse) {
  const { requestHandler, seen } = stubbedHandler(respond);
  return { client: new SecretsManagerClient({ region, credentials, requestHandler, maxAttempts: 1 }), seen };
}

export const TEST_CREDENTIALS = credentials;
