/**
 * SQS consumer of the escalation queue: starts each new case's escalation workflow (one execution per case,
 * named after it, so a redelivered message starts nothing twice) and shows the case in the consoles.
 * Failed records are reported individually (partial batch response) and retried, then dead-lettered.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { instrumented } from '../shared/middleware';
import { logger } from '../shared/powertools';
import { escalationWorkflow, supportDesk } from '../shared/runtime';

const escalationMessage = z.object({ caseId: z.string().min(1), conversationId: z.string().min(1) });

export const handler = instrumented(async (event: SQSEvent, _context: Context): Promise<SQSBatchResponse> => {
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    try {
      const message = escalationMessage.parse(JSON.parse(record.body));
      await escalationWorkflow().start(message, message.caseId);
      await supportDesk().broadcastCase(message.caseId);
      logger.info('escalation workflow started', { caseId: message.caseId });
    } catch (error) {
      logger.error('escalation message failed', { error: error as Error, messageId: record.messageId });
      failures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures: failures };
});
