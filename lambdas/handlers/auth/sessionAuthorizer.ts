/**
 * Lambda REQUEST authorizer for the local face's operator routes and operator WebSocket connections: the
 * `supportmax_session` cookie (or, for API clients, `Authorization: Bearer <the same token>` or HTTP Basic with
 * the operator's username and password) must name a live
 * session (else "Unauthorized", which API Gateway turns into 401); state-changing methods with the cookie must
 * echo the session's CSRF token in `x-csrf-token`, a WebSocket $connect
 * must come from our own origin, and while a password change is pending only the /api/auth routes are open
 * (else Deny, 403). Allow carries `{ username, roles: 'agent,supervisor', passwordChangeRequired }`.
 */
import type { APIGatewayAuthorizerResult, Context } from 'aws-lambda';
import { csrfTokenMatches } from '#core/operatorAuth';
import { instrumented } from '../shared/middleware';
import {
  basicCredentialsOf,
  bearerTokenOf,
  CSRF_HEADER,
  headerOf,
  operatorAuth,
  sessionTokenOf,
} from '../shared/operatorSessions';

/** The REST authorizer event and the WebSocket $connect one (which has no httpMethod or resource). */
export interface SessionAuthorizerEvent {
  readonly type?: 'REQUEST';
  readonly methodArn: string;
  readonly httpMethod?: string;
  readonly resource?: string;
  readonly headers?: Readonly<Record<string, string | undefined>> | null;
  readonly requestContext?: { readonly eventType?: string; readonly routeKey?: string } | null;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** What a session with a pending password change may still call. */
const PASSWORD_CHANGE_ROUTES = new Set(['/api/auth/password', '/api/auth/me', '/api/auth/logout']);

const policy = (effect: 'Allow' | 'Deny', principalId: string, methodArn: string) => ({
  principalId,
  policyDocument: {
    Version: '2012-10-17',
    Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: methodArn }],
  },
});

export const handler = instrumented(
  async (event: SessionAuthorizerEvent, _context: Context): Promise<APIGatewayAuthorizerResult> => {
    const cookieToken = sessionTokenOf(event.headers);
    const bearer = cookieToken ? undefined : bearerTokenOf(event.headers);
    const basic = cookieToken || bearer ? undefined : basicCredentialsOf(event.headers);
    // Bearer and Basic credentials are never attached by a browser on its own: no CSRF check for them.
    const apiClient = bearer !== undefined || basic !== undefined;
    const session = basic
      ? await operatorAuth()
          .authenticate(basic.username, basic.password)
          .catch(() => undefined)
      : await operatorAuth().validateSession(cookieToken ?? bearer);
    // API Gateway's contract: this exact message means 401.
    if (!session) throw new Error('Unauthorized');
    const deny = (reason: string) => ({
      ...policy('Deny', session.username, event.methodArn),
      context: { reason },
    });
    const isConnect = event.requestContext?.eventType === 'CONNECT' || event.httpMethod === undefined;
    if (isConnect) {
      // Browsers send cookies on cross-site WebSocket handshakes too; only our own pages may open one.
      const origin = headerOf(event.headers, 'origin');
      if (origin !== undefined && hostOf(origin) !== headerOf(event.headers, 'host')?.toLowerCase()) {
        return deny('cross-origin WebSocket connections are not allowed');
      }
    } else if (!apiClient && !SAFE_METHODS.has(event.httpMethod!.toUpperCase())) {
      const expected = 'csrfToken' in session ? String(session.csrfToken) : '';
      if (!csrfTokenMatches(expected, headerOf(event.headers, CSRF_HEADER))) {
        return deny('missing or invalid x-csrf-token header');
      }
    }
    if (session.passwordChangeRequired && !PASSWORD_CHANGE_ROUTES.has(event.resource ?? '')) {
      return deny('password change required: POST /api/auth/password first');
    }
    return {
      ...policy('Allow', session.username, event.methodArn),
      context: {
        username: session.username,
        roles: session.roles.join(','),
        passwordChangeRequired: String(session.passwordChangeRequired),
      },
    };
  },
);

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host.toLowerCase();
  } catch {
    return undefined;
  }
}
