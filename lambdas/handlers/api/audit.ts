/**
 * Audit log API (REST, role supervisor or above): one UTC day's entries, oldest first, a page at a time.
 *   GET /api/audit?day=YYYY-MM-DD&limit=1..500&cursor=<nextCursor of the previous page>
 * → { day, entries, nextCursor? }
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { z } from 'zod';
import { AUDIT_DAY, type AuditReader } from '#core/auditLog';
import { auditReader } from '../shared/auditTrail';
import { requireRole } from '../shared/authorization';
import { ApiError, json, parseQuery, restHandler } from '../shared/http';

export const MAX_AUDIT_PAGE = 500;

const day = z
  .string()
  .regex(AUDIT_DAY, 'day must be YYYY-MM-DD')
  .refine((value) => {
    const ms = Date.parse(`${value}T00:00:00Z`);
    return !Number.isNaN(ms) && new Date(ms).toISOString().startsWith(value);
  }, 'day is not a date');
const listQuery = z
  .object({
    day,
    limit: z.coerce.number().int().min(1).max(MAX_AUDIT_PAGE).default(100),
    cursor: z.string().max(2048).optional(),
  })
  .strict();

/** The handler over any reader, for tests. */
export function createAuditApi(reader: () => AuditReader) {
  return async (event: APIGatewayProxyEvent) => {
    requireRole(event, 'supervisor');
    if (`${event.httpMethod} ${event.resource}` !== 'GET /api/audit') {
      throw new ApiError(404, 'NotFound', `no route for ${event.httpMethod} ${event.path}`);
    }
    const query = parseQuery(event, listQuery);
    try {
      const page = await reader().listDay(query.day, {
        limit: query.limit,
        ...(query.cursor ? { cursor: query.cursor } : {}),
      });
      return json(200, { day: query.day, ...page });
    } catch (error) {
      if ((error as Error).name === 'InvalidAuditCursorError') {
        throw new ApiError(400, 'ValidationError', `cursor: ${(error as Error).message}`);
      }
      throw error;
    }
  };
}

export const handler = restHandler(createAuditApi(auditReader));
