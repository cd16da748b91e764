/** Turn step 3b (escalation agent): case with handoff packet, customer told, case queued for humans. */
import type { Context } from 'aws-lambda';
import { instrumented } from '../shared/middleware';
import { logger } from '../shared/powertools';
import { supportDesk } from '../shared/runtime';
import { parseTurnState } from './turnState';

export const handler = instrumented(async (event: unknown, _context: Context) => {
  const turn = parseTurnState(event);
  if (turn.failure) logger.warn('turn failed before an answer; escalating', { failure: turn.failure });
  return supportDesk().escalateTurn(turn, turn.classified, turn.retrieval, turn.failure !== undefined);
});
