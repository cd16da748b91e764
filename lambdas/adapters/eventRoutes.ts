/**
 * Which consumer receives which domain events: EventBridge rules on AWS (lib/), in-process bus rules locally.
 * One list, so both faces route identically.
 */
import { EVENT_SOURCE } from '#core/domainEvents';

export const EVENT_ROUTES = [
  {
    rule: 'metrics',
    consumer: 'metricsAggregator',
    pattern: { source: [EVENT_SOURCE] },
  },
  {
    rule: 'operator-console',
    consumer: 'consoleNotifier',
    pattern: {
      source: [EVENT_SOURCE],
      // New messages of escalated conversations reach the consoles from the message handler directly.
      'detail-type': ['AgentReplied', 'ConversationResolved', 'CaseOpened', 'SlaBreached'],
    },
  },
  {
    rule: 'team-notifier',
    consumer: 'teamNotifier',
    pattern: { source: [EVENT_SOURCE], 'detail-type': ['CaseOpened', 'SlaBreached'] },
  },
  {
    rule: 'audit',
    consumer: 'auditRecorder',
    pattern: {
      source: [EVENT_SOURCE],
      // ConversationResolved without a case (automated) is dropped by the recorder.
      'detail-type': [
        'MessageAnswered',
        'ConversationEscalated',
        'AgentReplied',
        'ConversationResolved',
        'CaseAbandoned',
      ],
    },
  },
  {
    // Agent replies become CaseComments, closures close the CRM case (retried, then dead-lettered).
    rule: 'crm-sync',
    consumer: 'crmSync',
    pattern: {
      source: [EVENT_SOURCE],
      'detail-type': ['AgentReplied', 'ConversationResolved', 'CaseAbandoned'],
    },
  },
] as const;

export type EventConsumer = (typeof EVENT_ROUTES)[number]['consumer'];
