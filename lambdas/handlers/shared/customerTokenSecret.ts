/**
 * The HS256 secret that verifies customer tokens on the WebSocket $connect: CUSTOMER_TOKEN_SECRET when set
 * (the local face), else the Secrets Manager secret CUSTOMER_TOKEN_SECRET_ARN (AWS; its SecretString is the
 * secret), read once per container. Undefined when neither is configured: then no token can verify.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { optionalEnv } from './env';

let loading: Promise<string | undefined> | undefined;

export function customerTokenSecret(): Promise<string | undefined> {
  loading ??= load().catch((error: unknown) => {
    loading = undefined; // a throttled or failed read is retried by the next connection
    throw error;
  });
  return loading;
}

async function load(): Promise<string | undefined> {
  const direct = optionalEnv('CUSTOMER_TOKEN_SECRET');
  if (direct) return direct;
  const secretArn = optionalEnv('CUSTOMER_TOKEN_SECRET_ARN');
  if (!secretArn) return undefined;
  const result = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: secretArn }));
  const value = result.SecretString?.trim();
  if (!value) throw new Error(`secret ${secretArn} has no SecretString (binary secrets are not supported)`);
  return value;
}
