/**
 * EventBridge target: keeps operator consoles live; case changes from agent replies and resolutions are
 * pushed to every subscribed console connection.
 */
import type { Context, EventBridgeEvent } from 'aws-lambda';
import type { DomainEvent } from '#core/domainEvents';
import { instrumented } from '../shared/middleware';
import { supportDesk } from '../shared/runtime';

export const handler = instrumented(
  async (event: EventBridgeEvent<string, DomainEvent>, _context: Context) => {
    const detail = event.detail;
    const desk = supportDesk();
    switch (detail.type) {
      case 'MessageReceived':
        await desk.broadcastMessage(detail.conversationId, detail.messageId);
        break;
      case 'AgentReplied':
      case 'ConversationResolved':
      case 'CaseOpened':
      case 'SlaBreached':
        if (detail.caseId) await desk.broadcastCase(detail.caseId);
        break;
      default:
        break;
    }
  },
);
