/**
 * EmailSender implementations. Both build the MIME message with nodemailer (stream transport, so nothing
 * is sent by nodemailer itself): EmlFileSender writes it to an outbox folder (local face: open the .eml in
 * any mail client), SesEmailSender hands it to SES v2 as raw content (AWS face).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { createTransport } from 'nodemailer';
import type { EmailAddress, EmailSender, OutboundEmail } from '#core/emailThreading';

const composer = createTransport({ streamTransport: true, buffer: true, newline: 'windows' });

const formatAddress = (a: EmailAddress) => (a.name ? { name: a.name, address: a.address } : a.address);

/** The raw RFC 5322 message and its Message-ID (generated in the sender's domain when the mail has none). */
export async function composeMime(
  mail: OutboundEmail,
  date: Date = new Date(),
): Promise<{ readonly raw: Buffer; readonly messageId: string }> {
  if (mail.to.length === 0) throw new Error('an outbound e-mail needs at least one recipient');
  const domain = mail.from.address.slice(mail.from.address.lastIndexOf('@') + 1) || 'localhost';
  const messageId = mail.messageId ?? `<${randomUUID()}@${domain}>`;
  const info = await composer.sendMail({
    from: formatAddress(mail.from),
    to: mail.to.map(formatAddress),
    subject: mail.subject,
    text: mail.text,
    ...(mail.html ? { html: mail.html } : {}),
    messageId,
    ...(mail.inReplyTo ? { inReplyTo: mail.inReplyTo } : {}),
    ...(mail.references?.length ? { references: [...mail.references] } : {}),
    headers: { ...mail.headers },
    date,
    xMailer: 'SupportMax',
    // Content is always given inline: never let a value be read as a file path or a URL.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  const raw = Buffer.isBuffer(info.message) ? info.message : Buffer.from(String(info.message));
  return { raw, messageId };
}

export interface EmlFileSenderOptions {
  /** Where the .eml files go, e.g. `${DATA_DIR}/outbox`; created when missing. */
  readonly outboxDir: string;
  /** @default Date.now */
  readonly now?: () => number;
}

/** Writes each mail to `<outboxDir>/<timestamp>-<message id>.eml`, atomically (temp file, then rename). */
export class EmlFileSender implements EmailSender {
  constructor(private readonly options: EmlFileSenderOptions) {}

  async send(mail: OutboundEmail): Promise<{ readonly messageId: string; readonly path: string }> {
    const date = new Date((this.options.now ?? Date.now)());
    const { raw, messageId } = await composeMime(mail, date);
    const dir = this.options.outboxDir;
    await mkdir(dir, { recursive: true });
    const name = `${date.toISOString().replace(/[:.]/g, '-')}-${fileSafe(messageId)}.eml`;
    const path = join(dir, name);
    const temp = join(dir, `.${name}.${randomUUID()}.tmp`);
    try {
      await writeFile(temp, raw, { mode: 0o600 });
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return { messageId, path };
  }
}

export interface SesEmailSenderOptions {
  readonly client: SESv2Client;
  /** SES configuration set (event destinations, suppression, dedicated IPs). */
  readonly configurationSetName?: string;
  /** Region of the client, for the Message-ID SES assigns. @default the client's region */
  readonly region?: string;
}

/**
 * Sends through SES v2 with raw content, so our threading headers (In-Reply-To, References, Auto-Submitted)
 * reach the customer unchanged. SES replaces the Message-ID with its own: that one is returned as
 * `messageId` (customers' replies refer to it) and ours as an alternate.
 */
export class SesEmailSender implements EmailSender {
  constructor(private readonly options: SesEmailSenderOptions) {}

  async send(mail: OutboundEmail) {
    const { raw, messageId } = await composeMime(mail);
    const result = await this.options.client.send(
      new SendEmailCommand({
        Content: { Raw: { Data: raw } },
        ...(this.options.configurationSetName
          ? { ConfigurationSetName: this.options.configurationSetName }
          : {}),
      }),
    );
    if (!result.MessageId) throw new Error('SES accepted the message but returned no MessageId');
    const region = this.options.region ?? (await this.options.client.config.region());
    // SES writes <id@email.amazonses.com> in us-east-1 and <id@REGION.amazonses.com> elsewhere.
    const host = region === 'us-east-1' ? 'email.amazonses.com' : `${region}.amazonses.com`;
    return { messageId: `<${result.MessageId}@${host}>`, alternateMessageIds: [messageId] };
  }
}

/** A Message-ID as part of a file name: no brackets, path separators or shell-unfriendly characters. */
function fileSafe(messageId: string): string {
  return (
    messageId
      .replace(/[<>]/g, '')
      .replace(/[^A-Za-z0-9._@-]/g, '_')
      .replace(/^\.+/, '')
      .slice(0, 120) || 'message'
  );
}
