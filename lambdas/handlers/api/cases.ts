/**
 * Operator case API (REST, role agent or above): list and read cases, take a conversation over, reply as a
 * human, resolve. Takeover, reply and resolve leave an operator_action audit entry under the signed-in
 * operator (never the reply text).
 *   GET  /api/cases?status=open|assigned|resolved|abandoned&priority=P1|P2|P3|P4
 *   GET  /api/cases/{caseId}
 *   POST /api/cases/{caseId}/takeover {agentName}
 *   POST /api/cases/{caseId}/reply    {text, agentName}
 *   POST /api/cases/{caseId}/resolve
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { z } from 'zod';
import { MAX_MESSAGE_CHARS } from '#core/chatProtocol';
import { recordOperatorAction } from '../shared/auditTrail';
import { requireRole } from '../shared/authorization';
import { ApiError, json, parseBody, parseQuery, pathParameter, restHandler } from '../shared/http';
import { supportDesk } from '../shared/runtime';

const CASE_ID = /^CS-[A-Z0-9]{4,16}$/;
const agentName = z.string().trim().min(1, 'agentName must not be empty').max(60).default('Agent');
const listQuery = z
  .object({
    status: z.enum(['open', 'assigned', 'resolved', 'abandoned']).optional(),
    priority: z.enum(['P1', 'P2', 'P3', 'P4']).optional(),
  })
  .passthrough();
const takeoverBody = z.object({ agentName }).strict();
const replyBody = z
  .object({ text: z.string().trim().min(1, 'text must not be empty').max(MAX_MESSAGE_CHARS), agentName })
  .strict();

/** Maps domain errors to HTTP: unknown case → 404, wrong state → 409. */
async function mapped<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'NotFoundError') throw new ApiError(404, 'CaseNotFound', (error as Error).message);
    if (name === 'StateConflictError') throw new ApiError(409, 'InvalidCaseState', (error as Error).message);
    throw error;
  }
}

async function route(event: APIGatewayProxyEvent) {
  const operator = requireRole(event, 'agent');
  const desk = supportDesk();
  const key = `${event.httpMethod} ${event.resource}`;
  switch (key) {
    case 'GET /api/cases': {
      const { status, priority } = parseQuery(event, listQuery);
      const cases = await desk.listCases(status);
      return json(200, { cases: priority ? cases.filter((c) => c.priority === priority) : cases });
    }
    case 'GET /api/cases/{caseId}': {
      const caseId = pathParameter(event, 'caseId', CASE_ID);
      return json(200, await mapped(() => desk.caseWithTranscript(caseId)));
    }
    case 'POST /api/cases/{caseId}/takeover': {
      const caseId = pathParameter(event, 'caseId', CASE_ID);
      const body = parseBody(event, takeoverBody);
      const record = await mapped(() => desk.takeOver(caseId, body.agentName));
      await recordOperatorAction(event, operator, 'takeover', record);
      await desk.broadcastCase(caseId);
      return json(200, { case: record });
    }
    case 'POST /api/cases/{caseId}/reply': {
      const caseId = pathParameter(event, 'caseId', CASE_ID);
      const body = parseBody(event, replyBody);
      const message = await mapped(() => desk.agentReply(caseId, body.agentName, body.text));
      await recordOperatorAction(event, operator, 'reply', {
        caseId,
        conversationId: message.conversationId,
      });
      return json(201, { message });
    }
    case 'POST /api/cases/{caseId}/resolve': {
      const caseId = pathParameter(event, 'caseId', CASE_ID);
      parseBody(event, z.object({}).passthrough());
      const record = await mapped(() => desk.resolveCase(caseId));
      await recordOperatorAction(event, operator, 'resolve', record);
      await desk.broadcastCase(caseId);
      return json(200, { case: record });
    }
    default:
      throw new ApiError(404, 'NotFound', `no route for ${event.httpMethod} ${event.path}`);
  }
}

export const handler = restHandler(route);
