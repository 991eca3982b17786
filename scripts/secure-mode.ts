/**
 * `npm start -- --secure`: the whole service against the secured broker (broker/secure.ts), with its
 * SCRAM secret in a Secrets Manager emulated by moto (broker/moto.ts), the way the functions and the
 * event source meet a SCRAM cluster on AWS: the functions read the secret (KAFKA_AUTH=scram,
 * KAFKA_SASL_SECRET_ARN) and trust the broker's CA (KAFKA_SSL_CA_FILE); the msk events carry the same
 * secret (`saslScram512`, from MSK_SASL_SCRAM_SECRET_ARN) and the event source trusts the CA through
 * NODE_EXTRA_CA_CERTS (an MSK event names no CA: MSK's certificates are public).
 */
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { freePort } from '../broker/broker';
import { ensureMoto, motoClientConfig, motoEnv, startMoto, type Moto } from '../broker/moto';
import { downSecure, SECURE_PORTS, SECURE_USER, secureCaFile, upSecure } from '../broker/secure';
import { createServiceTopics } from './create-topics';

export interface SecureMode {
  /** the environment `serverless offline` runs with */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/**
 * Secured broker up (reused when running), moto started, the SCRAM secret stored, the topics created.
 * `stop` stops moto, and the secured broker too when this call started it (unless `keepBroker`).
 */
export async function startSecureMode(
  base: NodeJS.ProcessEnv,
  say: (line: string) => void,
  options: { keepBroker: boolean },
): Promise<SecureMode> {
  const started = await upSecure(say);
  const stopBroker = async () => {
    if (started && !options.keepBroker) await downSecure(say);
  };
  let moto: Moto;
  try {
    ensureMoto(say);
    moto = await startMoto(await freePort());
  } catch (error) {
    await stopBroker();
    throw error;
  }
  try {
    const aws = motoEnv(moto, 'eu-west-1');
    const secrets = new SecretsManagerClient(motoClientConfig(moto, aws.AWS_REGION));
    // MSK's SCRAM secrets are named AmazonMSK_…
    const { ARN } = await secrets.send(
      new CreateSecretCommand({ Name: 'AmazonMSK_local', SecretString: JSON.stringify(SECURE_USER) }),
    );
    say(`Secrets Manager (moto, pid ${moto.pid}) at ${moto.endpoint} holds the SCRAM secret ${ARN}`);
    // topics through the plaintext listener, as an administrator would
    await createServiceTopics({ ...base, KAFKA_BROKERS: `127.0.0.1:${SECURE_PORTS.plaintext}` });
    const ca = secureCaFile();
    return {
      env: {
        ...base,
        ...aws,
        KAFKA_BROKERS: `127.0.0.1:${SECURE_PORTS.scram}`,
        KAFKA_AUTH: 'scram',
        KAFKA_SSL: 'true',
        KAFKA_SASL_SECRET_ARN: ARN!,
        KAFKA_SSL_CA_FILE: ca,
        MSK_SASL_SCRAM_SECRET_ARN: ARN!,
        NODE_EXTRA_CA_CERTS: ca,
      },
      stop: async () => {
        await moto.stop();
        await stopBroker();
      },
    };
  } catch (error) {
    await moto.stop();
    await stopBroker();
    throw error;
  }
}
