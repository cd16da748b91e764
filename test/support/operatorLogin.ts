/**
 * Operator sign-in for tests of the local face: the env that gives the `admin` operator a known password,
 * and a login helper returning the session cookie and CSRF token. Test-only.
 */

export const TEST_ADMIN_PASSWORD = 'local-face-test-admin-passphrase';
export const TEST_CUSTOMER_TOKEN_SECRET = 'local-face-test-customer-token-secret-0123456789';

/** Env for startLocalFaceProcess: a known admin password and customer token secret. */
export const OPERATOR_TEST_ENV = {
  OPERATOR_BOOTSTRAP_PASSWORD: TEST_ADMIN_PASSWORD,
  CUSTOMER_TOKEN_SECRET: TEST_CUSTOMER_TOKEN_SECRET,
} as const;

export interface OperatorLogin {
  readonly username: string;
  readonly roles: readonly string[];
  readonly passwordChangeRequired: boolean;
  /** `supportmax_session=…`, for a Cookie header. */
  readonly cookie: string;
  readonly csrfToken: string;
  /** The raw Set-Cookie header of the login response. */
  readonly setCookie: string;
  /** Cookie, CSRF token and JSON content type, for fetch. */
  headers(extra?: Record<string, string>): Record<string, string>;
}

export async function loginOperator(
  baseUrl: string,
  username: string,
  password: string,
): Promise<OperatorLogin> {
  const response = await fetch(`${baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const body = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200) {
    throw new Error(`login of ${username} failed with ${response.status}: ${JSON.stringify(body)}`);
  }
  const setCookie = response.headers.getSetCookie()[0] ?? '';
  const cookie = setCookie.split(';')[0] ?? '';
  const csrfToken = String(body.csrfToken);
  return {
    username: String(body.username),
    roles: body.roles as string[],
    passwordChangeRequired: body.passwordChangeRequired === true,
    cookie,
    csrfToken,
    setCookie,
    headers: (extra = {}) => ({
      'content-type': 'application/json',
      cookie,
      'x-csrf-token': csrfToken,
      ...extra,
    }),
  };
}
