/**
 * Raw RFC 5322 mail → InboundEmail, with mailparser. Hostile or broken MIME is the normal case for a public
 * mailbox: everything is best-effort, and the only error that leaves this module is InvalidEmailError with
 * a reason (no From, no body, too large, unparseable). Attachment bytes come back separately, for storage;
 * the InboundEmail carries their metadata only.
 */
import { createHash } from 'node:crypto';
import { type ParsedMail, simpleParser } from 'mailparser';
import {
  type AuthenticationVerdict,
  type AutomationHeaders,
  type EmailAddress,
  type EmailAttachmentInfo,
  type InboundEmail,
  isForwardSubject,
  parseMessageIds,
  stripQuotedReply,
  stripSignature,
} from '#core/emailThreading';

export const DEFAULT_MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;
export const DEFAULT_MAX_RAW_BYTES = 25 * 1024 * 1024;

export type InvalidEmailReason = 'no-from' | 'no-body' | 'too-large' | 'unparseable';

/** A mail we cannot treat as a customer message. SMTP answers it with a permanent 550. */
export class InvalidEmailError extends Error {
  constructor(
    readonly reason: InvalidEmailReason,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidEmailError';
  }
}

export interface ParseEmailOptions {
  /** Attachments above this are listed with stored: false and their content dropped. @default 10 MiB */
  readonly maxAttachmentBytes?: number;
  /** Larger raw mails are rejected before parsing. @default 25 MiB */
  readonly maxRawBytes?: number;
  /** When the mail was received. @default now */
  readonly receivedAt?: Date | number;
  /** SMTP envelope sender: stands in for a missing Return-Path ('' is the null sender of bounces). */
  readonly envelopeFrom?: string;
  /** Receipt verdicts known to the caller (e.g. from an SES Lambda action event). */
  readonly authentication?: InboundEmail['authentication'];
  /**
   * Read the verdicts SES receiving writes on top of the stored mail (Authentication-Results from
   * amazonses.com, X-SES-Spam-Verdict, X-SES-Virus-Verdict). Only for mail that came through SES: a
   * sender can forge these headers, and only SES's own, topmost ones are read. @default false
   */
  readonly sesReceiptHeaders?: boolean;
}

export interface AttachmentContent {
  /** Position of the attachment in `email.attachments`. */
  readonly index: number;
  readonly filename: string;
  readonly contentType: string;
  readonly content: Buffer;
}

export interface ParsedInboundEmail {
  readonly email: InboundEmail;
  /** Bytes of the attachments with stored: true, for the transcript bucket. */
  readonly attachmentContents: readonly AttachmentContent[];
}

// C0 controls other than tab and newlines, bidi overrides; the same set the chat protocol removes.
const CONTROL =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g;
const ADDRESS = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;
const MAX_SUBJECT_CHARS = 998;

export async function parseInboundEmail(
  raw: Buffer | string,
  options: ParseEmailOptions = {},
): Promise<ParsedInboundEmail> {
  try {
    return await parse(raw, options);
  } catch (error) {
    if (error instanceof InvalidEmailError) throw error;
    throw new InvalidEmailError('unparseable', `the message cannot be read: ${describe(error)}`);
  }
}

async function parse(raw: Buffer | string, options: ParseEmailOptions): Promise<ParsedInboundEmail> {
  const maxRawBytes = options.maxRawBytes ?? DEFAULT_MAX_RAW_BYTES;
  const maxAttachmentBytes = options.maxAttachmentBytes ?? DEFAULT_MAX_ATTACHMENT_BYTES;
  const bytes = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
  if (bytes.length === 0) throw new InvalidEmailError('unparseable', 'the message is empty');
  if (bytes.length > maxRawBytes) {
    throw new InvalidEmailError('too-large', `the message is ${bytes.length} bytes, over ${maxRawBytes}`);
  }

  let mail: ParsedMail;
  try {
    // keepCidLinks: inline images stay attachments instead of being copied into the HTML as data: URLs.
    mail = await simpleParser(bytes, {
      keepCidLinks: true,
      checksumAlgo: false,
      maxHtmlLengthToParse: 2_000_000,
    });
  } catch (error) {
    throw new InvalidEmailError('unparseable', `the MIME structure cannot be parsed: ${describe(error)}`);
  }

  const from = senderOf(mail);
  if (!from) throw new InvalidEmailError('no-from', 'the message has no valid From address');

  const subject = clean(mail.subject ?? '')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, MAX_SUBJECT_CHARS);
  const fullText = readableText(mail);
  const attachments: EmailAttachmentInfo[] = [];
  const attachmentContents: AttachmentContent[] = [];
  mail.attachments.forEach((attachment, index) => {
    const size = attachment.size ?? attachment.content?.length ?? 0;
    const stored = size <= maxAttachmentBytes && Buffer.isBuffer(attachment.content);
    const filename = safeFilename(attachment.filename, index);
    const contentType = attachment.contentType || 'application/octet-stream';
    attachments.push({ filename, contentType, size, stored });
    if (stored) attachmentContents.push({ index, filename, contentType, content: attachment.content });
  });
  if (!fullText && !subject) {
    throw new InvalidEmailError('no-body', 'the message has neither a readable body nor a subject');
  }

  const receivedAt = new Date(options.receivedAt ?? Date.now()).toISOString();
  const messageId =
    parseMessageIds(mail.messageId)[0] ??
    `<${createHash('sha256').update(bytes).digest('hex').slice(0, 32)}@synthesised.invalid>`;
  const inReplyTo = parseMessageIds(mail.inReplyTo)[0];
  const html = typeof mail.html === 'string' && mail.html ? mail.html : undefined;
  const email: InboundEmail = {
    messageId,
    ...(inReplyTo ? { inReplyTo } : {}),
    references: parseMessageIds(mail.references).slice(-100),
    from,
    to: recipientsOf(mail),
    subject,
    text: fullText
      ? stripSignature(stripQuotedReply(fullText, { forwarded: isForwardSubject(subject) }))
      : '',
    ...(html ? { html } : {}),
    receivedAt,
    headers: automationHeaders(mail, options.envelopeFrom),
    attachments,
    ...authenticationOf(mail, options),
  };
  return { email, attachmentContents };
}

function senderOf(mail: ParsedMail): EmailAddress | undefined {
  for (const entry of flatten(mail.from ? [mail.from] : [])) {
    const address = entry.address?.trim();
    if (address && ADDRESS.test(address)) {
      const name = clean(entry.name ?? '').trim();
      return { address, ...(name ? { name } : {}) };
    }
  }
  return undefined;
}

function recipientsOf(mail: ParsedMail): string[] {
  const lists = [mail.to, mail.cc].flatMap((value) => (value === undefined ? [] : [value].flat()));
  return [
    ...new Set(
      flatten(lists)
        .map((a) => a.address?.trim() ?? '')
        .filter((a) => ADDRESS.test(a)),
    ),
  ].slice(0, 100);
}

type ParsedAddress = { name?: string; address?: string; group?: ParsedAddress[] };

function flatten(objects: readonly { value: ParsedAddress[] }[]): ParsedAddress[] {
  const out: ParsedAddress[] = [];
  const visit = (entries: readonly ParsedAddress[], depth: number) => {
    for (const entry of entries) {
      if (entry.group && depth < 3) visit(entry.group, depth + 1);
      else if (entry.address) out.push(entry);
    }
  };
  visit(
    objects.flatMap((o) => o.value ?? []),
    0,
  );
  return out;
}

/** The body as text (mailparser converts HTML-only mails), unless it is undecodable noise. */
function readableText(mail: ParsedMail): string {
  let text = mail.text ?? '';
  if (!text.trim() && typeof mail.html === 'string') text = roughTextOf(mail.html);
  text = clean(text).replace(/\r\n?/g, '\n').trim();
  if (!text) return '';
  // A broken transfer encoding decodes to replacement characters: nothing a person wrote.
  const noise = (text.match(/\uFFFD/g)?.length ?? 0) / text.length;
  return noise > 0.2 ? '' : text;
}

/** Last resort when mailparser could not convert the HTML (too long, too deep). */
function roughTextOf(html: string): string {
  return html
    .slice(0, 2_000_000)
    .replace(/<(script|style)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<br\s*\/?>|<\/p\s*>|<\/div\s*>/gi, '\n')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/[ \t]+/g, ' ');
}

/** The unparsed value of the first header with this (lower-case) name, unfolded. */
function rawHeader(mail: ParsedMail, name: string): string | undefined {
  const line = mail.headerLines.find((h) => h.key === name)?.line;
  if (line === undefined) return undefined;
  const value = line
    .slice(line.indexOf(':') + 1)
    .replace(/\r?\n[ \t]+/g, ' ')
    .trim();
  return clean(value).slice(0, 500);
}

function automationHeaders(mail: ParsedMail, envelopeFrom: string | undefined): AutomationHeaders {
  const headers: Record<string, string> = {};
  const put = (key: keyof AutomationHeaders, value: string | undefined) => {
    if (value !== undefined) headers[key] = value;
  };
  put('autoSubmitted', rawHeader(mail, 'auto-submitted'));
  put('precedence', rawHeader(mail, 'precedence'));
  put('xAutoResponseSuppress', rawHeader(mail, 'x-auto-response-suppress'));
  put('xAutoreply', rawHeader(mail, 'x-autoreply'));
  put('xAutorespond', rawHeader(mail, 'x-autorespond'));
  put('listId', rawHeader(mail, 'list-id'));
  put('listUnsubscribe', rawHeader(mail, 'list-unsubscribe'));
  put(
    'returnPath',
    rawHeader(mail, 'return-path') ?? (envelopeFrom === undefined ? undefined : `<${envelopeFrom}>`),
  );
  const contentType = rawHeader(mail, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  put('contentType', contentType || undefined);
  return headers;
}

function authenticationOf(
  mail: ParsedMail,
  options: ParseEmailOptions,
): { authentication?: InboundEmail['authentication'] } {
  if (options.authentication) return { authentication: options.authentication };
  if (!options.sesReceiptHeaders) return {};
  // SES prepends its headers: the first occurrence is SES's, later ones may come from the sender.
  const results = rawHeader(mail, 'authentication-results') ?? '';
  const fromSes = /^amazonses\.com\s*;/i.test(results);
  const method = (name: string): AuthenticationVerdict => {
    const value = fromSes
      ? results.match(new RegExp(`\\b${name}=(\\w+)`, 'i'))?.[1]?.toLowerCase()
      : undefined;
    if (value === 'pass') return 'pass';
    return value === 'fail' || value === 'permerror' ? 'fail' : 'none';
  };
  const verdict = (header: string): AuthenticationVerdict => {
    const value = rawHeader(mail, header)?.toUpperCase();
    return value === 'PASS' ? 'pass' : value === 'FAIL' ? 'fail' : 'none';
  };
  return {
    authentication: {
      dkim: method('dkim'),
      spf: method('spf'),
      dmarc: method('dmarc'),
      spam: verdict('x-ses-spam-verdict'),
      virus: verdict('x-ses-virus-verdict'),
    },
  };
}

function safeFilename(filename: string | undefined, index: number): string {
  // The last path segment only: "../../etc/x.pdf" is "x.pdf".
  const name = (
    clean(filename ?? '')
      .split(/[/\\]/)
      .pop() ?? ''
  )
    .replace(/^\.+/, '')
    .trim()
    .slice(0, 200);
  return name || `attachment-${index + 1}`;
}

const clean = (value: string) => value.replace(CONTROL, '');

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error)).slice(0, 200);
