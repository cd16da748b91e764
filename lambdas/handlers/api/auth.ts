/**
 * Operator sign-in of the local face (on AWS the console signs in with Cognito instead):
 *   POST /api/auth/login    {username, password} → session cookie + CSRF token (open route)
 *   POST /api/auth/logout
 *   GET  /api/auth/me
 *   POST /api/auth/password {currentPassword, newPassword} → a fresh session; earlier sessions end
 * Every route but login sits behind the session authorizer.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { z } from 'zod';
import { OperatorAuthError, type SignedIn } from '#core/operatorAuth';
import { ApiError, json, parseBody, restHandler } from '../shared/http';
import {
  CSRF_HEADER,
  cameOverHttps,
  clearedSessionCookie,
  operatorAuth,
  sessionCookie,
  sessionTokenOf,
} from '../shared/operatorSessions';

const secret = z.string().min(1).max(1024);
const loginBody = z.object({ username: z.string().trim().min(1).max(128), password: secret }).strict();
const passwordBody = z.object({ currentPassword: secret, newPassword: secret }).strict();

const STATUS: Record<OperatorAuthError['code'], [number, string]> = {
  InvalidCredentials: [401, 'Unauthorized'],
  InvalidSession: [401, 'Unauthorized'],
  PasswordPolicy: [400, 'PasswordPolicy'],
  InvalidOperator: [400, 'ValidationError'],
  OperatorExists: [409, 'OperatorExists'],
};

/** Maps the auth service's errors to HTTP. */
async function mapped<T>(work: () => Promise<T>, overrides: Partial<typeof STATUS> = {}): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof OperatorAuthError)) throw error;
    const [status, code] = overrides[error.code] ?? STATUS[error.code];
    throw new ApiError(status, code, error.message);
  }
}

/** The session as the pages see it; the CSRF token also in its header (web/api.js reads either). */
function sessionResponse(
  session: Pick<SignedIn, 'username' | 'roles' | 'csrfToken' | 'passwordChangeRequired'>,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  const { username, roles, csrfToken, passwordChangeRequired } = session;
  return json(
    200,
    { username, roles, csrfToken, passwordChangeRequired },
    { ...headers, [CSRF_HEADER]: csrfToken },
  );
}

function signedIn(event: APIGatewayProxyEvent, session: SignedIn): APIGatewayProxyResult {
  return sessionResponse(session, {
    'set-cookie': sessionCookie(session.token, session.maxAgeSeconds, cameOverHttps(event.headers)),
  });
}

async function route(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const auth = operatorAuth();
  switch (`${event.httpMethod} ${event.resource}`) {
    case 'POST /api/auth/login': {
      const { username, password } = parseBody(event, loginBody);
      return signedIn(event, await mapped(() => auth.login(username, password)));
    }
    case 'POST /api/auth/logout': {
      await auth.logout(sessionTokenOf(event.headers));
      return json(
        200,
        { signedOut: true },
        { 'set-cookie': clearedSessionCookie(cameOverHttps(event.headers)) },
      );
    }
    case 'GET /api/auth/me': {
      // Also hands out the session's CSRF token: a new tab shares the cookie but not the page's memory.
      // Cross-origin pages cannot read this response (no CORS), so the token stays ours.
      const session = await auth.validateSession(sessionTokenOf(event.headers));
      if (!session) throw new ApiError(401, 'Unauthorized', 'sign in first');
      return sessionResponse(session);
    }
    case 'POST /api/auth/password': {
      const { currentPassword, newPassword } = parseBody(event, passwordBody);
      const token = sessionTokenOf(event.headers);
      // A wrong current password is not a missing session: 401 would send the console back to sign-in.
      const changed = await mapped(() => auth.changePassword(token, currentPassword, newPassword), {
        InvalidCredentials: [400, 'WrongPassword'],
      });
      return signedIn(event, changed);
    }
    default:
      throw new ApiError(404, 'NotFound', `no route for ${event.httpMethod} ${event.path}`);
  }
}

export const handler = restHandler(route);
