/** Turn step 3a (responder agent): grounded answer stored once, sent to the customer, event published. */
import type { Context } from 'aws-lambda';
import { instrumented } from '../shared/middleware';
import { engine, supportDesk } from '../shared/runtime';
import { parseTurnState } from './turnState';

export const handler = instrumented(async (event: unknown, _context: Context) => {
  const turn = parseTurnState(event);
  if (!turn.classified || !turn.retrieval) throw new Error('answer step needs $.classified and $.retrieval');
  return supportDesk().answerTurn(await engine(), turn, turn.classified, turn.retrieval);
});
