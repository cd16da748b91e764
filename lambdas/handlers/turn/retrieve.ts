/** Turn step 2 (retriever agent): ranked FAQs, calibrated confidence and the escalation decision. */
import type { Context } from 'aws-lambda';
import { instrumented } from '../shared/middleware';
import { engine } from '../shared/runtime';
import { parseTurnState } from './turnState';

export const handler = instrumented(async (event: unknown, _context: Context) => {
  const turn = parseTurnState(event);
  if (!turn.classified) throw new Error('retrieve step needs the classify step output at $.classified');
  return (await engine()).retrieve(turn.classified);
});
