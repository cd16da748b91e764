/** WebSocket $disconnect: forgets the connection; a bot-answered conversation counts as resolved. */
import type { Context } from 'aws-lambda';
import { instrumented } from '../shared/middleware';
import { supportDesk } from '../shared/runtime';
import type { WebSocketRequest } from './events';

export const handler = instrumented(async (event: WebSocketRequest, _context: Context) => {
  await supportDesk().customerDisconnected(event.requestContext.connectionId);
  return { statusCode: 200 };
});
