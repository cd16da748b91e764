/**
 * The escalation workflow's steps (statemachines/escalation.asl.json), one function dispatching on `step`:
 *   prepare      customer, priority with tier, SLA, CRM mirror, team notified → {caseId, done, level, timeoutSeconds}
 *   awaitAgent   parks the callback token on the case (invoked with .waitForTaskToken)
 *   slaBreached  next support level and deadline, SlaBreached event → like prepare
 *   finish       records how the wait ended
 */
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { caseWorkflow } from '../shared/crmRuntime';
import { instrumented } from '../shared/middleware';

const caseId = z.string().regex(/^CS-[A-Z0-9]{4,16}$/, 'must be a case id like CS-1A2B3C4D');

const stepInput = z.discriminatedUnion('step', [
  z.object({ step: z.literal('prepare'), caseId }),
  z.object({ step: z.literal('awaitAgent'), caseId, taskToken: z.string().min(1).max(4096) }),
  z.object({ step: z.literal('slaBreached'), caseId }),
  z.object({ step: z.literal('finish'), caseId, outcome: z.enum(['replied', 'resolved', 'abandoned']) }),
]);

export const handler = instrumented(async (event: unknown, _context: Context) => {
  const parsed = stepInput.safeParse(event);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`invalid case step input: ${issue.path.join('.') || 'input'}: ${issue.message}`);
  }
  const input = parsed.data;
  const workflow = caseWorkflow();
  switch (input.step) {
    case 'prepare':
      return workflow.prepare(input.caseId);
    case 'awaitAgent':
      await workflow.registerWait(input.caseId, input.taskToken);
      return { caseId: input.caseId, waiting: true };
    case 'slaBreached':
      return workflow.slaBreached(input.caseId);
    case 'finish':
      return workflow.finish(input.caseId, input.outcome);
  }
});
