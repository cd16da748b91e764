/** WebSocket $connect: registers the customer connection. */
import type { Context } from 'aws-lambda';
import { instrumented } from '../shared/middleware';
import { supportDesk } from '../shared/runtime';
import type { WebSocketRequest } from './events';

export const handler = instrumented(async (event: WebSocketRequest, _context: Context) => {
  await supportDesk().customerConnected(
    event.requestContext.connectionId,
    event.requestContext.identity?.sourceIp,
  );
  return { statusCode: 200 };
});
