import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSalesforceCredentials } from '#adapters/salesforceCredentials';

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:supportmax/salesforce-AbCdEf';

const secretsManager = mockClient(SecretsManagerClient);

const secretReturns = (secretString: string | undefined) =>
  secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: secretString });

describe('loadSalesforceCredentials', () => {
  afterEach(() => {
    secretsManager.reset();
  });

  it('reads username-password credentials from the Secrets Manager secret', async () => {
    // Prepare
    secretReturns(
      JSON.stringify({
        loginUrl: 'https://test.salesforce.com',
        clientId: 'client-id',
        clientSecret: 'client-secret',
        username: 'integration@acme.example',
        password: 'hunter2',
        securityToken: 'TOKEN',
      }),
    );

    // Act
    const credentials = await loadSalesforceCredentials({
      secretArn: SECRET_ARN,
      env: { SALESFORCE_USERNAME: 'ignored@env.example' },
      secretsClient: new SecretsManagerClient({ region: 'eu-west-1' }),
    });

    // Assess
    expect(credentials).toEqual({
      loginUrl: 'https://test.salesforce.com',
      clientId: 'client-id',
      clientSecret: 'client-secret',
      username: 'integration@acme.example',
      password: 'hunter2',
      securityToken: 'TOKEN',
    });
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('reads a ready session from the secret and defaults nothing else', async () => {
    // Prepare
    secretReturns(JSON.stringify({ instanceUrl: 'https://acme.my.salesforce.com', accessToken: '00D!abc' }));

    // Act
    const credentials = await loadSalesforceCredentials({
      secretArn: SECRET_ARN,
      env: {},
      secretsClient: new SecretsManagerClient({ region: 'eu-west-1' }),
    });

    // Assess
    expect(credentials).toEqual({ instanceUrl: 'https://acme.my.salesforce.com', accessToken: '00D!abc' });
  });

  it('names the keys missing from the secret without echoing any value', async () => {
    // Prepare
    secretReturns(
      JSON.stringify({ clientId: 'client-id', username: 'integration@acme.example', password: 'hunter2' }),
    );

    // Act
    const failure = await loadSalesforceCredentials({
      secretArn: SECRET_ARN,
      env: {},
      secretsClient: new SecretsManagerClient({ region: 'eu-west-1' }),
    }).catch((error: unknown) => error as Error);

    // Assess
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toContain(`Salesforce secret ${SECRET_ARN}: missing clientSecret.`);
    expect((failure as Error).message).not.toContain('hunter2');
  });

  it('refuses a secret that is not JSON without quoting it', async () => {
    // Prepare
    secretReturns('password=hunter2');

    // Act
    const failure = loadSalesforceCredentials({
      secretArn: SECRET_ARN,
      env: {},
      secretsClient: new SecretsManagerClient({ region: 'eu-west-1' }),
    });

    // Assess
    await expect(failure).rejects.toThrow(`Salesforce secret ${SECRET_ARN} is not a JSON object`);
    await expect(failure).rejects.not.toThrow('hunter2');
  });

  it('reads username-password credentials from the environment (login URL defaults to production, empty variables count as unset)', async () => {
    // Prepare
    const env = {
      SALESFORCE_CLIENT_ID: 'client-id',
      SALESFORCE_CLIENT_SECRET: 'client-secret',
      SALESFORCE_USERNAME: 'integration@acme.example',
      SALESFORCE_PASSWORD: 'hunter2',
      SALESFORCE_SECURITY_TOKEN: '',
    };

    // Act
    const credentials = await loadSalesforceCredentials({ env });

    // Assess
    expect(credentials).toEqual({
      loginUrl: 'https://login.salesforce.com',
      clientId: 'client-id',
      clientSecret: 'client-secret',
      username: 'integration@acme.example',
      password: 'hunter2',
    });
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('reads a ready session from the environment', async () => {
    // Prepare
    const env = {
      SALESFORCE_INSTANCE_URL: 'https://acme.my.salesforce.com',
      SALESFORCE_ACCESS_TOKEN: '00D!abc',
    };

    // Act
    const credentials = await loadSalesforceCredentials({ env });

    // Assess
    expect(credentials).toEqual({ instanceUrl: 'https://acme.my.salesforce.com', accessToken: '00D!abc' });
  });

  it('names the missing environment variables', async () => {
    // Prepare
    const env = { SALESFORCE_USERNAME: 'integration@acme.example', SALESFORCE_PASSWORD: 'hunter2' };

    // Act
    const failure = loadSalesforceCredentials({ env });

    // Assess
    await expect(failure).rejects.toThrow(
      'Salesforce environment: missing SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET. Expected ' +
        'SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET, SALESFORCE_USERNAME and SALESFORCE_PASSWORD ' +
        '(or SALESFORCE_INSTANCE_URL and SALESFORCE_ACCESS_TOKEN).',
    );
  });

  it('names an incomplete session and an invalid URL without their values', async () => {
    // Prepare
    const partialSession = { SALESFORCE_ACCESS_TOKEN: 'secret-token-value' };
    const badUrl = { SALESFORCE_INSTANCE_URL: 'not a url', SALESFORCE_ACCESS_TOKEN: 'secret-token-value' };

    // Act
    const failureOf = (env: NodeJS.ProcessEnv) =>
      loadSalesforceCredentials({ env }).then(
        () => new Error('no failure'),
        (error: unknown) => error as Error,
      );
    const missing = await failureOf(partialSession);
    const invalid = await failureOf(badUrl);

    // Assess
    expect(missing.message).toBe(
      'Salesforce environment: missing SALESFORCE_INSTANCE_URL. ' +
        'Expected SALESFORCE_INSTANCE_URL and SALESFORCE_ACCESS_TOKEN.',
    );
    expect(invalid.message).toContain('invalid SALESFORCE_INSTANCE_URL');
    for (const message of [missing.message, invalid.message]) {
      expect(message).not.toContain('secret-token-value');
      expect(message).not.toContain('not a url');
    }
  });
});
