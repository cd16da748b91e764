/** Turn step 1 (classifier agent): intent, product area, sentiment of the stored customer message. */
import type { Context } from 'aws-lambda';
import { instrumented } from '../shared/middleware';
import { logger } from '../shared/powertools';
import { engine, supportDesk } from '../shared/runtime';
import { parseTurnState } from './turnState';

export const handler = instrumented(async (event: unknown, _context: Context) => {
  const turn = parseTurnState(event);
  const text = await supportDesk().messageText(turn.conversationId, turn.messageId);
  const classified = await (await engine()).classify(text);
  const guard = classified.promptGuard;
  // Signals only: the customer's words never go to the logs.
  if (guard && guard.verdict !== 'ok') {
    logger.warn('prompt guard flagged a message', {
      verdict: guard.verdict,
      signals: guard.signals,
      conversationId: turn.conversationId,
      messageId: turn.messageId,
    });
  }
  return classified;
});
