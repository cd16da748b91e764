/**
 * One inbound mail, the same way in both faces (SMTP locally, SES → S3 → SQS on AWS): parsed, handed to the
 * e-mail channel (threading, loop protection, the desk's answer), and its attachments stored under the
 * conversation — kept for the agents, never sent to a model.
 */
import { type ParseEmailOptions, parseInboundEmail } from '#adapters/mimeParser';
import type { EmailReceiveOutcome } from '#core/emailChannel';
import { emailIntakeChannel } from './crmRuntime';
import { attachmentStore } from './runtime';

export async function takeInboundEmail(
  raw: Buffer,
  options: ParseEmailOptions = {},
): Promise<EmailReceiveOutcome> {
  const { email, attachmentContents } = await parseInboundEmail(raw, options);
  const outcome = await emailIntakeChannel().receive(email);
  const store = attachmentStore();
  if (outcome.kind === 'delivered' && attachmentContents.length && store) {
    await store.save(outcome.conversationId, email.messageId, attachmentContents);
  }
  return outcome;
}
