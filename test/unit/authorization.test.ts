import { describe, expect, it } from 'vitest';
import { operatorOf, requireRole, rolesOf } from '#handlers/shared/authorization';
import { ApiError } from '#handlers/shared/http';

const cognito = (claims: Record<string, unknown>) => ({ requestContext: { authorizer: { claims } } });
const local = (context: Record<string, unknown>) => ({
  requestContext: { authorizer: { principalId: context.username, ...context } },
});

const failure = (work: () => unknown) => {
  try {
    work();
  } catch (error) {
    if (error instanceof ApiError) return { status: error.status, code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected an ApiError');
};

describe('operatorOf', () => {
  it('reads the Cognito user-pool authorizer claims, with groups as a list string, an array or a string', () => {
    // Act
    const bracketed = operatorOf(
      cognito({ 'cognito:username': 'dana', 'cognito:groups': '[agent supervisor]' }),
    );
    const commas = operatorOf(cognito({ 'cognito:username': 'sam', 'cognito:groups': 'agent,supervisor' }));
    const array = operatorOf(cognito({ 'cognito:username': 'kim', 'cognito:groups': ['admin'] }));
    const noGroups = operatorOf(cognito({ 'cognito:username': 'lee' }));

    // Assess
    expect(bracketed).toEqual({ username: 'dana', roles: ['agent', 'supervisor'] });
    expect(commas).toEqual({ username: 'sam', roles: ['agent', 'supervisor'] });
    expect(array).toEqual({ username: 'kim', roles: ['admin'] });
    expect(noGroups).toEqual({ username: 'lee', roles: [] });
  });

  it('reads the local session authorizer context', () => {
    // Act
    const operator = operatorOf(
      local({ username: 'dana', roles: 'agent,supervisor', passwordChangeRequired: 'false' }),
    );

    // Assess
    expect(operator).toEqual({ username: 'dana', roles: ['agent', 'supervisor'] });
  });

  it('finds nobody without an authorizer, without a username, and drops unknown group names', () => {
    expect(operatorOf({ requestContext: {} })).toBeUndefined();
    expect(operatorOf({ requestContext: { authorizer: null } })).toBeUndefined();
    expect(operatorOf({})).toBeUndefined();
    expect(operatorOf(cognito({ 'cognito:groups': 'admin' }))).toBeUndefined();
    expect(operatorOf(local({ roles: 'admin' }))).toBeUndefined();
    expect(rolesOf('["agent","root", "admin"]')).toEqual(['agent', 'admin']);
  });
});

describe('requireRole', () => {
  it('returns the operator who holds the role or a higher one', () => {
    expect(requireRole(local({ username: 'ada', roles: 'admin' }), 'supervisor').username).toBe('ada');
    expect(
      requireRole(cognito({ 'cognito:username': 'dana', 'cognito:groups': 'agent' }), 'agent').roles,
    ).toEqual(['agent']);
  });

  it('answers 401 without an operator and 403 naming the role without it', () => {
    // Act
    const anonymous = failure(() => requireRole({ requestContext: {} }, 'agent'));
    const agent = failure(() =>
      requireRole(cognito({ 'cognito:username': 'dana', 'cognito:groups': '[agent]' }), 'supervisor'),
    );
    const localAgent = failure(() => requireRole(local({ username: 'dana', roles: 'agent' }), 'admin'));

    // Assess
    expect(anonymous).toMatchObject({ status: 401, code: 'Unauthorized' });
    expect(agent).toEqual({ status: 403, code: 'Forbidden', message: 'requires role supervisor' });
    expect(localAgent).toEqual({ status: 403, code: 'Forbidden', message: 'requires role admin' });
  });
});
