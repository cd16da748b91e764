/**
 * Operator case API (REST): list and read cases, take a conversation over, reply as a human, resolve.
 *   GET  /api/cases?status=open|assigned|resolved
 *   GET  /api/cases/{caseId}
 *   POST /api/cases/{caseId}/takeover {agentName}
 *   POST /api/cases/{caseId}/reply    {text, agentName}
 *   POST /api/cases/{caseId}/resolve
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { z } from 'zod';
import { MAX_MESSAGE_CHARS } from '#core/chatProtocol';
import { ApiError, json, parseBody, parseQuery, pathParameter, restHandler } from '../shared/http';
import { supportDesk } from '../shared/runtime';

const CASE_ID = /^CS-[A-Z0-9]{4,16}$/;
const agentName = z.string().trim().min(1, 'agentName must not be empty').max(60).default('Agent');
const listQuery = z.object({ status: z.enum(['open', 'assigned', 'resolved']).optional() }).passthrough();
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
  const desk = supportDesk();
  const key = `${event.httpMethod} ${event.resource}`;
  switch (key) {
    case 'GET /api/cases': {
      const { status } = parseQuery(event, listQuery);
      return json(200, { cases: await desk.listCases(status) });
    }
    case 'GET /api/cases/{caseId}': {
      const caseId = pathParameter(event, 'caseId', CASE_ID);
      return json(200, await mapped(() => desk.caseWithTranscript(caseId)));
    }
    case 'POST /api/cases/{caseId}/takeover': {
      const caseId = pathParameter(event, 'caseId', CASE_ID);
      const body = parseBody(event, takeoverBody);
      const record = await mapped(() => desk.takeOver(caseId, body.agentName));
      await desk.broadcastCase(caseId);
      return json(200, { case: record });
    }
    case 'POST /api/cases/{caseId}/reply': {
      const caseId = pathParameter(event, 'caseId', CASE_ID);
      const body = parseBody(event, replyBody);
      const message = await mapped(() => desk.agentReply(caseId, body.agentName, body.text));
      return json(201, { message });
    }
    case 'POST /api/cases/{caseId}/resolve': {
      const caseId = pathParameter(event, 'caseId', CASE_ID);
      parseBody(event, z.object({}).passthrough());
      const record = await mapped(() => desk.resolveCase(caseId));
      await desk.broadcastCase(caseId);
      return json(200, { case: record });
    }
    default:
      throw new ApiError(404, 'NotFound', `no route for ${event.httpMethod} ${event.path}`);
  }
}

export const handler = restHandler(route);
