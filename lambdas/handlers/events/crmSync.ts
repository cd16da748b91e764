/**
 * EventBridge target: mirrors agents' work into the external CRM (Salesforce): replies become CaseComments,
 * resolutions and abandonments close the Case. Asynchronous on purpose: a slow or unavailable CRM never
 * holds up an agent; a failed invocation is retried (Lambda's asynchronous retries), then dead-lettered and
 * alarmed.
 */
import type { Context, EventBridgeEvent } from 'aws-lambda';
import type { DomainEvent } from '#core/domainEvents';
import { caseWorkflow } from '../shared/crmRuntime';
import { instrumented } from '../shared/middleware';
import { logger } from '../shared/powertools';

export const handler = instrumented(
  async (event: EventBridgeEvent<string, DomainEvent>, _context: Context) => {
    const detail = event.detail;
    const workflow = caseWorkflow();
    let outcome: 'synced' | 'skipped' = 'skipped';
    switch (detail.type) {
      case 'AgentReplied':
        if (detail.messageId) {
          outcome = await workflow.syncToCrm({
            kind: 'reply',
            caseId: detail.caseId,
            messageId: detail.messageId,
            agentName: detail.agentName,
          });
        }
        break;
      case 'ConversationResolved':
        if (detail.caseId && detail.resolvedBy === 'human') {
          outcome = await workflow.syncToCrm({ kind: 'close', caseId: detail.caseId, status: 'resolved' });
        }
        break;
      case 'CaseAbandoned':
        outcome = await workflow.syncToCrm({ kind: 'close', caseId: detail.caseId, status: 'abandoned' });
        break;
      default:
        break;
    }
    logger.info('CRM sync', { type: detail.type, outcome });
  },
);
