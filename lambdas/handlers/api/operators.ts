/**
 * Operator accounts of the local face's built-in sign-in (admin only; on AWS they live in Cognito):
 *   GET  /api/operators
 *   POST /api/operators {username, roles, password, mustChangePassword?} → 201
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { z } from 'zod';
import { OperatorAuthError } from '#core/operatorAuth';
import { requireRole } from '../shared/authorization';
import { ApiError, json, parseBody, restHandler } from '../shared/http';
import { operatorAuth } from '../shared/operatorSessions';

const createBody = z
  .object({
    username: z.string().trim().min(1).max(64),
    roles: z.array(z.string()).min(1).max(3),
    password: z.string().min(1).max(1024),
    mustChangePassword: z.boolean().optional(),
  })
  .strict();

async function route(event: APIGatewayProxyEvent) {
  requireRole(event, 'admin');
  switch (`${event.httpMethod} ${event.resource}`) {
    case 'GET /api/operators':
      return json(200, { operators: await operatorAuth().listUsers() });
    case 'POST /api/operators': {
      const body = parseBody(event, createBody);
      try {
        return json(201, { operator: await operatorAuth().createUser(body) });
      } catch (error) {
        if (!(error instanceof OperatorAuthError)) throw error;
        if (error.code === 'OperatorExists') throw new ApiError(409, 'OperatorExists', error.message);
        throw new ApiError(
          400,
          error.code === 'PasswordPolicy' ? 'PasswordPolicy' : 'ValidationError',
          error.message,
        );
      }
    }
    default:
      throw new ApiError(404, 'NotFound', `no route for ${event.httpMethod} ${event.path}`);
  }
}

export const handler = restHandler(route);
