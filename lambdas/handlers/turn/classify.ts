/** Turn step 1 (classifier agent): intent, product area, sentiment of the stored customer message. */
import type { Context } from 'aws-lambda';
import { instrumented } from '../shared/middleware';
import { engine, supportDesk } from '../shared/runtime';
import { parseTurnState } from './turnState';

export const handler = instrumented(async (event: unknown, _context: Context) => {
  const turn = parseTurnState(event);
  const text = await supportDesk().messageText(turn.conversationId, turn.messageId);
  return (await engine()).classify(text);
});
