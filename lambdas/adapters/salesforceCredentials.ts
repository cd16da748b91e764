/**
 * Where the Salesforce adapter's credentials come from: a Secrets Manager secret on AWS (the
 * `salesforceSecretName` deploy setting), environment variables locally. Either an OAuth2 username-password
 * login or a ready session (instance URL + access token). Errors name the missing or invalid keys, never a
 * value.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';

const DEFAULT_LOGIN_URL = 'https://login.salesforce.com';

const nonBlank = z.string().trim().min(1);

const passwordSchema = z.object({
  /** @default https://login.salesforce.com (use https://test.salesforce.com for sandboxes) */
  loginUrl: z.string().trim().url().default(DEFAULT_LOGIN_URL),
  clientId: nonBlank,
  clientSecret: nonBlank,
  username: nonBlank,
  password: nonBlank,
  /** Appended to the password at login when the org requires it (logins from untrusted IP ranges). */
  securityToken: nonBlank.optional(),
});

const sessionSchema = z.object({
  instanceUrl: z.string().trim().url(),
  accessToken: nonBlank,
});

export type SalesforcePasswordCredentials = z.output<typeof passwordSchema>;
export type SalesforceSessionCredentials = z.output<typeof sessionSchema>;
export type SalesforceCredentials = SalesforcePasswordCredentials | SalesforceSessionCredentials;

export const isSessionCredentials = (
  credentials: SalesforceCredentials,
): credentials is SalesforceSessionCredentials => 'accessToken' in credentials;

/** Environment variable for each credential key (the local face and tests). */
const ENV_NAMES = {
  loginUrl: 'SALESFORCE_LOGIN_URL',
  clientId: 'SALESFORCE_CLIENT_ID',
  clientSecret: 'SALESFORCE_CLIENT_SECRET',
  username: 'SALESFORCE_USERNAME',
  password: 'SALESFORCE_PASSWORD',
  securityToken: 'SALESFORCE_SECURITY_TOKEN',
  instanceUrl: 'SALESFORCE_INSTANCE_URL',
  accessToken: 'SALESFORCE_ACCESS_TOKEN',
} as const;

type CredentialKey = keyof typeof ENV_NAMES;

export interface SalesforceCredentialSource {
  /** ARN (or name) of a secret whose SecretString is a JSON object with the credential keys. */
  readonly secretArn?: string;
  /** Read when no secret is given. */
  readonly env: NodeJS.ProcessEnv;
  /** @default a SecretsManagerClient from the SDK's default chain */
  readonly secretsClient?: SecretsManagerClient;
}

export async function loadSalesforceCredentials(
  source: SalesforceCredentialSource,
): Promise<SalesforceCredentials> {
  if (source.secretArn) {
    const raw = await readSecret(source.secretArn, source.secretsClient ?? new SecretsManagerClient({}));
    return parseCredentials(raw, `Salesforce secret ${source.secretArn}`, (key) => key);
  }
  const raw = Object.fromEntries(
    Object.entries(ENV_NAMES)
      .map(([key, envName]) => [key, source.env[envName]] as const)
      .filter(([, value]) => value !== undefined && value !== ''),
  );
  return parseCredentials(raw, 'Salesforce environment', (key) => ENV_NAMES[key]);
}

async function readSecret(secretId: string, client: SecretsManagerClient): Promise<Record<string, unknown>> {
  const result = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  if (result.SecretString === undefined) {
    throw new Error(`Salesforce secret ${secretId} has no SecretString (binary secrets are not supported)`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(result.SecretString);
  } catch {
    // The parser's message quotes the text around the error: the secret itself.
    throw new Error(`Salesforce secret ${secretId} is not a JSON object`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`Salesforce secret ${secretId} is not a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * A session (instanceUrl + accessToken) wins when any of its keys is present and no password key is;
 * otherwise the password flow is expected. The error lists what that flow lacks.
 */
function parseCredentials(
  raw: Record<string, unknown>,
  where: string,
  label: (key: CredentialKey) => string,
): SalesforceCredentials {
  const present = (key: CredentialKey) => raw[key] !== undefined;
  const sessionMeant =
    (present('accessToken') || present('instanceUrl')) &&
    !(['clientId', 'clientSecret', 'username', 'password'] as const).some(present);
  const result = sessionMeant ? sessionSchema.safeParse(raw) : passwordSchema.safeParse(raw);
  if (result.success) return result.data;

  const missing = new Set<string>();
  const invalid = new Set<string>();
  for (const issue of result.error.issues) {
    const key = issue.path[0] as CredentialKey;
    if (!present(key)) missing.add(label(key));
    else invalid.add(label(key));
  }
  const problems = [
    missing.size ? `missing ${[...missing].join(', ')}` : '',
    invalid.size ? `invalid ${[...invalid].join(', ')}` : '',
  ].filter(Boolean);
  const expected = sessionMeant
    ? `${label('instanceUrl')} and ${label('accessToken')}`
    : `${label('clientId')}, ${label('clientSecret')}, ${label('username')} and ${label('password')} ` +
      `(or ${label('instanceUrl')} and ${label('accessToken')})`;
  throw new Error(`${where}: ${problems.join('; ')}. Expected ${expected}.`);
}
