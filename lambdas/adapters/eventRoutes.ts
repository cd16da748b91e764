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
      'detail-type': ['AgentReplied', 'ConversationResolved'],
    },
  },
] as const;

export type EventConsumer = (typeof EVENT_ROUTES)[number]['consumer'];
