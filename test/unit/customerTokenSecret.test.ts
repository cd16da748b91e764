import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:supportmax-customer-token-AbCdEf';

/** A fresh module each time: the loader caches per container. */
const loader = async () => (await import('#handlers/shared/customerTokenSecret')).customerTokenSecret;

describe('customerTokenSecret', () => {
  const secrets = mockClient(SecretsManagerClient);

  beforeEach(() => {
    vi.resetModules();
    secrets.reset();
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    vi.stubEnv('CUSTOMER_TOKEN_SECRET', '');
    vi.stubEnv('CUSTOMER_TOKEN_SECRET_ARN', '');
  });

  afterEach(() => vi.unstubAllEnvs());

  it('uses CUSTOMER_TOKEN_SECRET when set, without calling Secrets Manager', async () => {
    // Prepare
    vi.stubEnv('CUSTOMER_TOKEN_SECRET', 'local-secret-local-secret-local-secret');
    vi.stubEnv('CUSTOMER_TOKEN_SECRET_ARN', ARN);
    const customerTokenSecret = await loader();

    // Act
    const secret = await customerTokenSecret();

    // Assess
    expect(secret).toBe('local-secret-local-secret-local-secret');
    expect(secrets.calls()).toHaveLength(0);
  });

  it('reads the secret named by CUSTOMER_TOKEN_SECRET_ARN once per container', async () => {
    // Prepare
    vi.stubEnv('CUSTOMER_TOKEN_SECRET_ARN', ARN);
    secrets
      .on(GetSecretValueCommand, { SecretId: ARN })
      .resolves({ SecretString: ' from-secrets-manager-0123456789abcdef \n' });
    const customerTokenSecret = await loader();

    // Act
    const [first, second] = await Promise.all([customerTokenSecret(), customerTokenSecret()]);
    const third = await customerTokenSecret();

    // Assess
    expect([first, second, third]).toEqual(Array(3).fill('from-secrets-manager-0123456789abcdef'));
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('retries after a failed read, and is undefined when nothing is configured', async () => {
    // Prepare
    vi.stubEnv('CUSTOMER_TOKEN_SECRET_ARN', ARN);
    secrets
      .on(GetSecretValueCommand)
      .rejectsOnce(new Error('ThrottlingException'))
      .resolves({ SecretString: 'second-try-second-try-second-try-0' });
    const customerTokenSecret = await loader();

    // Act
    const failed = await customerTokenSecret().catch((error: Error) => error.message);
    const retried = await customerTokenSecret();
    vi.stubEnv('CUSTOMER_TOKEN_SECRET_ARN', '');
    vi.resetModules();
    const unconfigured = await (await loader())();

    // Assess
    expect(failed).toBe('ThrottlingException');
    expect(retried).toBe('second-try-second-try-second-try-0');
    expect(unconfigured).toBeUndefined();
  });
});
