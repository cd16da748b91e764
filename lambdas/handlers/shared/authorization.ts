/**
 * Who is calling, as API Gateway's authorizer put it into `requestContext.authorizer`, and role checks for
 * the handlers. Two shapes: the Cognito user-pool authorizer on AWS (`claims['cognito:username']`,
 * `claims['cognito:groups']`) and the session authorizer of the local face (`{ username, roles }`).
 */
import { hasRole, isOperatorRole, type OperatorRole } from '#core/operatorAuth';
import { ApiError } from './http';

export interface Operator {
  readonly username: string;
  readonly roles: readonly OperatorRole[];
}

interface WithAuthorizer {
  readonly requestContext?: { readonly authorizer?: unknown } | null;
}

/** The signed-in operator, or undefined when the request carries no (usable) authorizer result. */
export function operatorOf(event: WithAuthorizer): Operator | undefined {
  const authorizer = event.requestContext?.authorizer;
  if (!isRecord(authorizer)) return undefined;
  const claims = authorizer.claims;
  if (isRecord(claims)) {
    const username = claims['cognito:username'];
    return typeof username === 'string' && username
      ? { username, roles: rolesOf(claims['cognito:groups']) }
      : undefined;
  }
  const username = authorizer.username;
  return typeof username === 'string' && username
    ? { username, roles: rolesOf(authorizer.roles) }
    : undefined;
}

/**
 * The operator, when they hold `role` or a higher one. Throws ApiError 401 without an operator and 403
 * without the role.
 */
export function requireRole(event: WithAuthorizer, role: OperatorRole): Operator {
  const operator = operatorOf(event);
  if (!operator) throw new ApiError(401, 'Unauthorized', 'sign in first');
  if (!hasRole(operator.roles, role)) throw new ApiError(403, 'Forbidden', `requires role ${role}`);
  return operator;
}

/**
 * Roles from a groups claim or context value: an array, "agent,supervisor", or API Gateway's rendering of
 * a list claim, "[agent supervisor]". Unknown names are dropped.
 */
export function rolesOf(value: unknown): OperatorRole[] {
  const names = Array.isArray(value)
    ? value
    : typeof value === 'string'
      ? value
          .replace(/^\s*\[|\]\s*$/g, '')
          .split(/[\s,]+/)
          .map((name) => name.replace(/^"|"$/g, ''))
      : [];
  return [...new Set(names.filter(isOperatorRole))];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
