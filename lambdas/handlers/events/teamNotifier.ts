/**
 * EventBridge target: tells the responsible team about a new case and about SLA breaches. With SES
 * configured (TEAM_NOTIFY_FROM and TEAM_QUEUE_EMAILS, a JSON map of queue → address, "*" as fallback)
 * it e-mails the team; otherwise (the local face) it logs the notification. Case text stays out of both:
 * the mail links the console, where an authenticated agent reads the handoff packet.
 */
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { z } from 'zod';
import type { DomainEvent } from '#core/domainEvents';
import { optionalEnv } from '../shared/env';
import { instrumented } from '../shared/middleware';
import { logger } from '../shared/powertools';
import { caseStore } from '../shared/runtime';

const queueEmails = z.record(z.string().email());

let ses: SESv2Client | undefined;
let addresses: Record<string, string> | undefined;

function recipientFor(queue: string): string | undefined {
  const raw = optionalEnv('TEAM_QUEUE_EMAILS');
  if (!raw) return undefined;
  addresses ??= queueEmails.parse(JSON.parse(raw));
  // An enterprise lane without its own address goes to its team's.
  return addresses[queue] ?? addresses[queue.replace(/-enterprise$/, '')] ?? addresses['*'];
}

export const handler = instrumented(
  async (event: EventBridgeEvent<string, DomainEvent>, _context: Context) => {
    const detail = event.detail;
    if (detail.type !== 'CaseOpened' && detail.type !== 'SlaBreached') return;
    const record = await caseStore().getCase(detail.caseId);
    if (!record) {
      logger.warn('notification for an unknown case', { caseId: detail.caseId });
      return;
    }
    const subject =
      detail.type === 'CaseOpened'
        ? `[${record.priority}] New ${record.queue} case ${record.caseId} (${detail.tier} customer, level ${detail.level})`
        : `[${record.priority}] SLA breached on ${record.caseId}: now ${detail.toLevel} (${detail.overdueSeconds} s overdue)`;
    const consoleUrl = optionalEnv('CONSOLE_URL');
    const body = [
      subject,
      `First response due: ${record.slaDueAt ?? 'n/a'}`,
      consoleUrl ? `Open it in the console: ${consoleUrl}?case=${encodeURIComponent(record.caseId)}` : '',
    ]
      .filter(Boolean)
      .join('\n');
    const from = optionalEnv('TEAM_NOTIFY_FROM');
    const to = recipientFor(record.queue);
    if (!from || !to) {
      logger.info('team notification', { caseId: record.caseId, queue: record.queue, subject });
      return;
    }
    ses ??= new SESv2Client({});
    await ses.send(
      new SendEmailCommand({
        FromEmailAddress: from,
        Destination: { ToAddresses: [to] },
        ...(optionalEnv('SES_CONFIGURATION_SET')
          ? { ConfigurationSetName: optionalEnv('SES_CONFIGURATION_SET') }
          : {}),
        Content: { Simple: { Subject: { Data: subject }, Body: { Text: { Data: body } } } },
      }),
    );
    logger.info('team notified by e-mail', { caseId: record.caseId, queue: record.queue });
  },
);
