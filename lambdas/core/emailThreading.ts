/**
 * E-mail as a support channel, the pure part: what an inbound mail is once parsed, how the customer's own
 * words are told apart from quoted history and signatures, how mails thread (Message-ID, In-Reply-To,
 * References, a case token in the subject), and how mail loops are avoided (automated senders are never
 * answered, replies per sender are rate limited, our replies say Auto-Submitted). Imports nothing.
 */

export interface EmailAddress {
  readonly address: string;
  readonly name?: string;
}

export interface EmailAttachmentInfo {
  readonly filename: string;
  readonly contentType: string;
  readonly size: number;
  /** False when the attachment was over the size limit and its content was dropped. */
  readonly stored: boolean;
}

export type AuthenticationVerdict = 'pass' | 'fail' | 'none';

/** Headers that tell a human's mail from a machine's (RFC 3834, RFC 2369, Exchange, bounces). */
export interface AutomationHeaders {
  readonly autoSubmitted?: string;
  readonly precedence?: string;
  readonly xAutoResponseSuppress?: string;
  readonly xAutoreply?: string;
  readonly xAutorespond?: string;
  readonly listId?: string;
  readonly listUnsubscribe?: string;
  /** '<>' for the null sender of bounces. */
  readonly returnPath?: string;
  /** Top-level content type, e.g. 'multipart/report' for delivery status notifications. */
  readonly contentType?: string;
}

export interface InboundEmail {
  /** As received, angle brackets included; synthesised from the content when the mail had none. */
  readonly messageId: string;
  readonly inReplyTo?: string;
  readonly references: readonly string[];
  readonly from: EmailAddress;
  readonly to: readonly string[];
  readonly subject: string;
  /** The customer's own words: quoted history and signature removed. */
  readonly text: string;
  readonly html?: string;
  /** When we received it (ISO 8601), not the sender's Date header. */
  readonly receivedAt: string;
  readonly headers: AutomationHeaders;
  readonly attachments: readonly EmailAttachmentInfo[];
  /** SES receipt verdicts on AWS ('fail' for spam/virus means found); absent locally. */
  readonly authentication?: {
    readonly dkim: AuthenticationVerdict;
    readonly spf: AuthenticationVerdict;
    readonly dmarc?: AuthenticationVerdict;
    readonly spam?: AuthenticationVerdict;
    readonly virus?: AuthenticationVerdict;
  };
}

/** Port: sends a composed mail (an .eml file locally, SES on AWS). */
export interface EmailSender {
  /**
   * Returns the Message-ID the recipient sees. A provider that rewrites it (SES) returns its own as
   * `messageId` and ours among `alternateMessageIds`, so replies to either thread.
   */
  send(
    mail: OutboundEmail,
  ): Promise<{ readonly messageId: string; readonly alternateMessageIds?: readonly string[] }>;
}

export interface OutboundEmail {
  readonly from: EmailAddress;
  readonly to: readonly EmailAddress[];
  readonly subject: string;
  readonly text: string;
  readonly html?: string;
  readonly inReplyTo?: string;
  readonly references?: readonly string[];
  /** Angle brackets included; the sender generates one when absent. */
  readonly messageId?: string;
  /** Extra headers such as Auto-Submitted. */
  readonly headers?: Readonly<Record<string, string>>;
}

// ---------------------------------------------------------------------------------------------------------
// Message-IDs and threading

const MESSAGE_ID = /<[^<>\s]{1,998}>/g;

/** A Message-ID as a lookup key: one `<…>`, no whitespace, lower case. Undefined for an empty value. */
export function normaliseMessageId(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const compact = value.replace(/\s+/g, '');
  const bracketed =
    compact.match(/<[^<>]+>/)?.[0] ?? (compact && !/[<>]/.test(compact) ? `<${compact}>` : '');
  return bracketed && bracketed.length > 2 ? bracketed.toLowerCase() : undefined;
}

/** Every `<…>` id in a header such as References, in order; a bare id when the header has no brackets. */
export function parseMessageIds(header: string | readonly string[] | undefined): string[] {
  if (header === undefined) return [];
  const text = typeof header === 'string' ? header : header.join(' ');
  const ids = text.match(MESSAGE_ID);
  if (ids) return ids;
  const bare = text.trim();
  return bare && !/\s/.test(bare) ? [`<${bare}>`] : [];
}

export interface ThreadKeys {
  readonly messageId: string;
  /** The mails this one answers, most specific first: In-Reply-To, then References from the newest. */
  readonly parents: readonly string[];
}

/** Normalised keys for thread lookups (lower case, one `<…>` each, no duplicates). */
export function threadKeysOf(
  email: Pick<InboundEmail, 'messageId' | 'inReplyTo' | 'references'>,
): ThreadKeys {
  const messageId = normaliseMessageId(email.messageId) ?? email.messageId.toLowerCase();
  const parents: string[] = [];
  for (const id of [email.inReplyTo, ...[...email.references].reverse()]) {
    const key = normaliseMessageId(id);
    if (key && key !== messageId && !parents.includes(key)) parents.push(key);
  }
  return { messageId, parents };
}

const CASE_TOKEN = /\[\s*(CS-[A-Za-z0-9]{4,16})\s*\]/i;

/** The case id carried in a subject as "[CS-AB12CD34]", upper case. */
export function caseTokenOf(subject: string): string | undefined {
  return subject.match(CASE_TOKEN)?.[1]?.toUpperCase();
}

/** The subject with exactly one case token, the given one, at the end. */
export function withCaseToken(subject: string, caseId: string): string {
  const token = `[${caseId.toUpperCase()}]`;
  const without = subject.replace(new RegExp(CASE_TOKEN.source, 'gi'), ' ').replace(/\s+/g, ' ').trim();
  return without ? `${without} ${token}` : token;
}

/** Reply prefixes in the languages our customers write in: Re, Aw (de), Sv (sv/da/no), Antw (nl), R/Rif (it). */
const REPLY_PREFIX = /^(?:\s*(?:re|aw|sv|antw|antwort|r|rif|réf|ref)(?:\[\d{1,3}\])?\s*:\s*)+/i;

/** "Re: " exactly once, other reply prefixes folded into it; the case token and the rest kept. */
export function replySubject(subject: string): string {
  const base = subject
    .replace(/[\r\n]+/g, ' ')
    .replace(REPLY_PREFIX, '')
    .trim();
  return `Re: ${base || 'Your message to support'}`;
}

/** What a subject is about: no reply prefixes, no case token. */
export function subjectTopic(subject: string): string {
  return subject
    .replace(/[\r\n]+/g, ' ')
    .replace(REPLY_PREFIX, '')
    .replace(new RegExp(CASE_TOKEN.source, 'gi'), ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** RFC 5322 suggests keeping References short: the thread root plus the most recent ancestors. */
export const MAX_REFERENCES = 20;

export interface ReplyThreadHeaders {
  readonly messageId: string;
  readonly inReplyTo: string;
  readonly references: readonly string[];
  /** RFC 3834: set on replies a machine wrote, so other machines do not answer them. */
  readonly autoSubmitted?: 'auto-replied';
}

/** Threading headers for our reply to `inbound`: In-Reply-To its id, References its chain plus its id. */
export function replyHeaders(
  inbound: Pick<InboundEmail, 'messageId' | 'inReplyTo' | 'references'>,
  ourMessageId: string,
  author: 'bot' | 'agent' = 'bot',
): ReplyThreadHeaders {
  const chain = inbound.references.length ? inbound.references : inbound.inReplyTo ? [inbound.inReplyTo] : [];
  const seen = new Set<string>();
  const references: string[] = [];
  for (const id of [...chain, inbound.messageId]) {
    const key = normaliseMessageId(id);
    if (!key || seen.has(key)) continue;
    seen.add(key);
    references.push(id.trim());
  }
  const capped =
    references.length > MAX_REFERENCES
      ? [references[0]!, ...references.slice(references.length - (MAX_REFERENCES - 1))]
      : references;
  return {
    messageId: ourMessageId,
    inReplyTo: inbound.messageId,
    references: capped,
    ...(author === 'bot' ? { autoSubmitted: 'auto-replied' as const } : {}),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Automated mail and the loop guard

const AUTOMATED_SENDER =
  /^(?:mailer-daemon|postmaster|no[-_.]?reply|do[-_.]?not[-_.]?reply|bounces?)(?:[+-].*)?$/i;

const AUTOMATED_SUBJECT = new RegExp(
  '^(?:' +
    [
      'auto(?:matic)?[ -]?(?:reply|response|antwort)',
      'autoreply',
      'out of (?:the )?office',
      'ooo\\b',
      'away from (?:the )?office',
      'on vacation',
      'undeliverable',
      'undelivered mail',
      'delivery status notification',
      'delivery (?:has )?fail(?:ed|ure)',
      'mail delivery (?:failed|failure|subsystem)',
      'returned mail',
      'failure notice',
      'message not delivered',
      'abwesenheitsnotiz',
      'automatische antwort',
      'réponse automatique',
      'absence du bureau',
      'respuesta automática',
      'fuera de la oficina',
      'risposta automatica',
      'automatisch antwoord',
    ].join('|') +
    ')',
  'i',
);

/** Why a mail was written by a machine (auto-reply, bounce, list, bulk), or undefined for a person. */
export function isAutomatedMail(
  email: Pick<InboundEmail, 'from' | 'subject' | 'headers'>,
): string | undefined {
  const h = email.headers;
  const autoSubmitted = h.autoSubmitted?.trim().toLowerCase();
  if (autoSubmitted && autoSubmitted !== 'no') return `Auto-Submitted: ${autoSubmitted}`;
  const precedence = h.precedence?.trim().toLowerCase();
  if (precedence && /^(?:bulk|junk|list|auto_reply)$/.test(precedence)) return `Precedence: ${precedence}`;
  if (h.xAutoreply !== undefined) return 'X-Autoreply header';
  if (h.xAutorespond !== undefined) return 'X-Autorespond header';
  const suppress = h.xAutoResponseSuppress?.toLowerCase() ?? '';
  if (/\b(?:all|oof|autoreply)\b/.test(suppress))
    return `X-Auto-Response-Suppress: ${h.xAutoResponseSuppress}`;
  if (h.listId !== undefined) return 'mailing list (List-Id)';
  if (h.listUnsubscribe !== undefined) return 'bulk mail (List-Unsubscribe)';
  if (h.returnPath !== undefined && h.returnPath.replace(/\s/g, '') === '<>') return 'null sender (bounce)';
  if (h.contentType?.toLowerCase().startsWith('multipart/report')) return 'delivery or read report';
  const local = email.from.address.split('@')[0] ?? '';
  if (AUTOMATED_SENDER.test(local)) return `automated sender ${local.toLowerCase()}`;
  const subject = email.subject.replace(/[\r\n]+/g, ' ').trim();
  if (AUTOMATED_SUBJECT.test(subject)) return `automated subject "${subject.slice(0, 60)}"`;
  return undefined;
}

export interface LoopGuardLimits {
  /** Replies to one sender within any hour. */
  readonly maxPerHour: number;
  /** Replies to one sender within any day. @default unlimited */
  readonly maxPerDay?: number;
}

export const DEFAULT_LOOP_LIMITS: LoopGuardLimits = { maxPerHour: 5, maxPerDay: 20 };

const HOUR_MS = 60 * 60 * 1000;
export const LOOP_GUARD_WINDOW_MS = 24 * HOUR_MS;

/**
 * Whether one more automatic reply may go to a sender, given the replies already sent to them: a mail loop
 * with another robot that ignores Auto-Submitted stops after the limit.
 */
export function shouldReply(
  history: readonly { readonly sentAt: number }[],
  now: number,
  limits: LoopGuardLimits = DEFAULT_LOOP_LIMITS,
): boolean {
  const lastHour = history.filter((h) => h.sentAt > now - HOUR_MS && h.sentAt <= now).length;
  if (lastHour >= limits.maxPerHour) return false;
  if (limits.maxPerDay === undefined) return true;
  return (
    history.filter((h) => h.sentAt > now - LOOP_GUARD_WINDOW_MS && h.sentAt <= now).length < limits.maxPerDay
  );
}

// ---------------------------------------------------------------------------------------------------------
// The customer's own words

const splitLines = (text: string) => text.replace(/\r\n?/g, '\n').split('\n');

/** Attribution lines that introduce a quoted mail ("On Mon, 2 Mar 2026, Alice <a@x> wrote:"). */
const ATTRIBUTION = [
  /^On\b.{0,400}\bwrote\s?:?$/,
  /^Am\b.{0,400}\bschrieb\b.{0,200}:$/,
  /^Le\b.{0,400}\ba écrit\s?:$/,
  /^El\b.{0,400}\bescribió\s?:$/,
  /^Op\b.{0,400}\bschreef\b.{0,200}:$/,
  /^Il\b.{0,400}\bha scritto\s?:$/,
  /^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b.{0,300}<[^<>\s]+@[^<>\s]+>:?$/,
];

/** Separators after which everything is the quoted original (Outlook, Android, Yahoo). */
const ORIGINAL_MESSAGE =
  /^[-_=*\s]{2,}\s*(?:original message|original-nachricht|ursprüngliche nachricht|message d'origine|mensaje original|messaggio originale|oorspronkelijk bericht)\s*[-_=*\s]{2,}$/i;
const OUTLOOK_FROM = /^\*?(?:From|Von|De|Da|Van)\s?:\*?\s+\S/;
const OUTLOOK_SENT = /^\*?(?:Sent|Date|Gesendet|Datum|Envoyé|Enviado|Inviato|Verzonden)\s?:\*?\s+\S/;
const OUTLOOK_RULE = /^_{10,}$/;

const isQuoteLine = (line: string) => /^\s*>/.test(line);
const nextNonBlank = (lines: readonly string[], from: number) => {
  for (let i = from; i < lines.length; i++) if (lines[i]!.trim()) return i;
  return -1;
};

/** Where an attribution starts at line i; it may wrap over up to three lines. Returns its last line. */
function attributionEnd(lines: readonly string[], i: number): number | undefined {
  let joined = '';
  for (let k = i; k < Math.min(lines.length, i + 3); k++) {
    joined = (joined ? `${joined} ` : '') + lines[k]!.trim();
    if (joined.length > 600) return undefined;
    if (ATTRIBUTION.some((pattern) => pattern.test(joined))) return k;
  }
  return undefined;
}

/** True when an Outlook-style header block ("From: …" then "Sent: …"/"Date: …") starts at line i. */
function outlookHeaderAt(lines: readonly string[], i: number): boolean {
  if (!OUTLOOK_FROM.test(lines[i]!.trim())) return false;
  for (let k = i + 1; k < Math.min(lines.length, i + 5); k++) {
    if (OUTLOOK_SENT.test(lines[k]!.trim())) return true;
  }
  return false;
}

/** Where a forwarded mail starts: the customer wants us to read it, so it is kept. */
const FORWARD_MARKER =
  /^(?:-{2,}\s*(?:forwarded message|weitergeleitete nachricht|message transféré|mensaje reenviado|messaggio inoltrato|doorgestuurd bericht)\s*-{2,}|begin forwarded message:|anfang der weitergeleiteten nachricht:)$/i;
const RULE_LINE = /^[-_=*\s]{3,}$/;

/** "Fwd: …", "FW: …", "WG: …" (de), "TR: …" (fr), "RV: …" (es). */
export const isForwardSubject = (subject: string) => /^\s*(?:fwd?|wg|tr|rv)\s*:/i.test(subject);

/**
 * Removes quoted history: "On … wrote:" attributions with their '>' lines (what the customer wrote below or
 * between them stays), and everything from an Outlook "-----Original Message-----" or "From: … Sent: …"
 * block on. Forwarded mails are kept (pass `forwarded` for a "Fwd:" subject: Outlook forwards look like its
 * replies). When nothing would be left, the text is returned as it was: a bare quote beats nothing.
 */
export function stripQuotedReply(text: string, options: { readonly forwarded?: boolean } = {}): string {
  const lines = splitLines(text);
  const kept: string[] = [];
  let cut = false;
  for (let i = 0; i < lines.length && !cut; i++) {
    const line = lines[i]!;
    const trimmed = line.trim();
    if (FORWARD_MARKER.test(trimmed)) {
      kept.push(...lines.slice(i));
      break;
    }
    if (!options.forwarded) {
      const next = nextNonBlank(lines, i + 1);
      cut =
        ORIGINAL_MESSAGE.test(trimmed) ||
        outlookHeaderAt(lines, i) ||
        (OUTLOOK_RULE.test(trimmed) && next >= 0 && outlookHeaderAt(lines, next));
      if (cut) break;
    }
    const end = trimmed ? attributionEnd(lines, i) : undefined;
    if (end !== undefined) {
      const next = nextNonBlank(lines, end + 1);
      // Quoted with '>': drop the attribution, the '>' lines go below. Not quoted: the rest is the original.
      if (next >= 0 && isQuoteLine(lines[next]!)) {
        i = end;
        continue;
      }
      cut = true;
      break;
    }
    if (isQuoteLine(line)) continue;
    kept.push(line);
  }
  // An HTML reply converted to text leaves the horizontal rule above the cut.
  while (cut && kept.length && (!kept.at(-1)!.trim() || RULE_LINE.test(kept.at(-1)!))) kept.pop();
  const result = tidy(kept);
  return result || text.trim();
}

const SIGNATURE_DELIMITER = /^--\s?$/;
const MOBILE_FOOTER =
  /^(?:sent from my (?:iphone|ipad|ipod|android|mobile|phone|smartphone|cell|tablet|samsung|galaxy|pixel|blackberry|huawei|xiaomi|oneplus|nokia|motorola|sony|lg|htc|windows phone)\b.{0,40}|sent from (?:mail for windows|outlook|yahoo mail|proton ?mail|aol mobile)\b.{0,40}|get outlook for (?:ios|android)\b.{0,40}|envoyé de mon .{1,40}|von meinem .{1,40} gesendet\.?|enviado desde mi .{1,40}|inviato da(?:l mio)? .{1,40}|verzonden vanaf mijn .{1,40})$/i;
const SIGN_OFF =
  /^(?:best|best regards|best wishes|kind regards|kindest regards|warm regards|warmest regards|regards|many thanks|thanks|thank you|thanks a lot|thanks again|thanks in advance|thank you in advance|thank you very much|cheers|sincerely|yours sincerely|yours truly|yours|all the best|br|mit freundlichen grüßen|mit freundlichen grüssen|viele grüße|liebe grüße|beste grüße|grüße|cordialement|bien à vous|salutations|saludos|un saludo|atentamente|cordiali saluti|saluti|groeten|met vriendelijke groet|vriendelijke groet|mvh|med vänliga hälsningar)\s*[,.!]*$/i;
/** A name/title/phone line of a signature block: short, not a question, not a sentence. */
const isSignatureBlockLine = (line: string) =>
  line.length <= 60 && !line.trim().endsWith('?') && line.trim().split(/\s+/).length <= 8;

/**
 * Removes a signature: everything after a "-- " delimiter, a mobile footer ("Sent from my iPhone") near the
 * end, or a sign-off ("Best regards,") followed only by a short name block. Conservative: only near the end,
 * and never when nothing would be left.
 */
export function stripSignature(text: string): string {
  const lines = splitLines(text);
  const hasContentBefore = (index: number) => lines.slice(0, index).some((l) => l.trim());
  let cut = lines.length;
  const delimiter = lines.findIndex((l, i) => SIGNATURE_DELIMITER.test(l) && hasContentBefore(i));
  if (delimiter >= 0) cut = delimiter;

  const body = lines.slice(0, cut);
  const nonBlank = body.map((l, i) => (l.trim() ? i : -1)).filter((i) => i >= 0);
  const tail = nonBlank.slice(-6);
  for (const index of tail.slice(-3)) {
    if (MOBILE_FOOTER.test(body[index]!.trim()) && hasContentBefore(index)) {
      cut = Math.min(cut, index);
      break;
    }
  }
  for (const index of tail) {
    if (index >= cut || !SIGN_OFF.test(body[index]!.trim()) || !hasContentBefore(index)) continue;
    const after = body.slice(index + 1, cut).filter((l) => l.trim());
    if (after.length <= 4 && after.every(isSignatureBlockLine)) {
      cut = index;
      break;
    }
  }
  const result = tidy(lines.slice(0, cut));
  return result || text.trim();
}

/** Trailing spaces off, at most one blank line in a row, no blank lines at either end. */
function tidy(lines: readonly string[]): string {
  return lines
    .map((l) => l.trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
