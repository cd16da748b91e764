import { describe, expect, it } from 'vitest';
import {
  caseTokenOf,
  type InboundEmail,
  isAutomatedMail,
  MAX_REFERENCES,
  normaliseMessageId,
  parseMessageIds,
  replyHeaders,
  replySubject,
  shouldReply,
  stripQuotedReply,
  stripSignature,
  subjectTopic,
  threadKeysOf,
  withCaseToken,
} from '#core/emailThreading';

const HOUR = 60 * 60 * 1000;
const NOW = Date.parse('2026-03-02T12:00:00.000Z');

function inbound(overrides: Partial<InboundEmail> = {}): InboundEmail {
  return {
    messageId: '<m1@example.com>',
    references: [],
    from: { address: 'alice@example.com', name: 'Alice' },
    to: ['support@example.com'],
    subject: 'Invoice question',
    text: 'Where is my invoice?',
    receivedAt: new Date(NOW).toISOString(),
    headers: {},
    attachments: [],
    ...overrides,
  };
}

describe('stripQuotedReply', () => {
  it('removes a Gmail attribution wrapped over two lines and its quoted lines', () => {
    // Prepare
    const text = [
      'Thanks, but the February invoice is missing.',
      '',
      'On Mon, Mar 2, 2026 at 9:01 AM SupportMax <support@example.com>',
      'wrote:',
      '',
      '> You can download invoices under Billing.',
      '> - Where do I find my invoices?',
    ].join('\n');

    // Act
    const stripped = stripQuotedReply(text);

    // Assess
    expect(stripped).toBe('Thanks, but the February invoice is missing.');
  });

  it('keeps what the customer wrote below and between quoted lines', () => {
    // Prepare
    const text = [
      'On 2 Mar 2026, at 09:12, SupportMax <support@example.com> wrote:',
      '> Which plan are you on?',
      'Pro, since January.',
      '> And which browser?',
      'Firefox 124.',
    ].join('\n');

    // Act
    const stripped = stripQuotedReply(text);

    // Assess
    expect(stripped).toBe('Pro, since January.\nFirefox 124.');
  });

  it('cuts at an Outlook "From: … Sent: …" block under a rule', () => {
    // Prepare
    const text = [
      'The reset link has expired again.',
      '',
      '________________________________',
      'From: SupportMax <support@example.com>',
      'Sent: Monday, March 2, 2026 10:30 AM',
      'To: Bob',
      'Subject: Re: Password reset',
      '',
      'Use the link we sent you.',
    ].join('\r\n');

    // Act
    const stripped = stripQuotedReply(text);

    // Assess
    expect(stripped).toBe('The reset link has expired again.');
  });

  it('cuts at "-----Original Message-----" and localised variants', () => {
    // Prepare
    const english = 'Still no refund.\n\n-----Original Message-----\nFrom: support@example.com\nYour refund…';
    const german =
      'Immer noch nichts.\n\n-------- Ursprüngliche Nachricht --------\nVon: support@example.com';

    // Act
    const results = [stripQuotedReply(english), stripQuotedReply(german)];

    // Assess
    expect(results).toEqual(['Still no refund.', 'Immer noch nichts.']);
  });

  it('recognises German and French attributions', () => {
    // Prepare
    const german = 'Danke!\n\nAm 02.03.2026 um 09:00 schrieb SupportMax <support@example.com>:\n> Hallo';
    const french =
      'Merci.\n\nLe lun. 2 mars 2026 à 09:00, SupportMax <support@example.com> a écrit :\n> Bonjour';

    // Act
    const results = [stripQuotedReply(german), stripQuotedReply(french)];

    // Assess
    expect(results).toEqual(['Danke!', 'Merci.']);
  });

  it('keeps a forwarded mail, since the customer wants it read', () => {
    // Prepare
    const text = [
      'This order was charged twice.',
      '',
      '---------- Forwarded message ---------',
      'From: Shop <orders@shop.example>',
      'Date: Sun, Mar 1, 2026 at 8:00 PM',
      'Subject: Order confirmation',
      '',
      'Thank you for your order 7781.',
    ].join('\n');

    // Act
    const stripped = stripQuotedReply(text);

    // Assess
    expect(stripped).toContain('Thank you for your order 7781.');
  });

  it('keeps an Outlook-style forward when the subject says Fwd', () => {
    // Prepare
    const text =
      'See below.\n\nFrom: Shop <orders@shop.example>\nSent: Sunday\nSubject: Order\n\nOrder 7781.';

    // Act
    const stripped = stripQuotedReply(text, { forwarded: true });

    // Assess
    expect(stripped).toContain('Order 7781.');
  });

  it('returns the text as it was when everything is a quote', () => {
    // Prepare
    const text = '> only a quote\n> nothing else';

    // Act
    const stripped = stripQuotedReply(text);

    // Assess
    expect(stripped).toBe(text);
  });

  it('leaves a sentence starting with "On" alone', () => {
    // Prepare
    const text = 'On my invoice the VAT number is wrong.\nCan you fix it?';

    // Act
    const stripped = stripQuotedReply(text);

    // Assess
    expect(stripped).toBe(text);
  });
});

describe('stripSignature', () => {
  it('removes everything after the "-- " delimiter', () => {
    // Prepare
    const text = 'What are the API limits?\n\n-- \nDana Scully\nHead of Engineering\n+1 555 0100';

    // Act
    const stripped = stripSignature(text);

    // Assess
    expect(stripped).toBe('What are the API limits?');
  });

  it('removes mobile footers', () => {
    // Prepare
    const texts = ['Where is my parcel?\n\nSent from my iPhone', 'Hilfe!\n\nVon meinem iPad gesendet'];

    // Act
    const stripped = texts.map((t) => stripSignature(t));

    // Assess
    expect(stripped).toEqual(['Where is my parcel?', 'Hilfe!']);
  });

  it('removes a sign-off followed by a short name block', () => {
    // Prepare
    const text = 'My invoice shows the wrong address.\n\nBest regards,\nAlice Example\nACME Ltd';

    // Act
    const stripped = stripSignature(text);

    // Assess
    expect(stripped).toBe('My invoice shows the wrong address.');
  });

  it('keeps a sign-off followed by a question, which is still the customer talking', () => {
    // Prepare
    const text = 'My invoice is wrong.\n\nThanks,\nAlice\n\nP.S. can you also reset my password?';

    // Act
    const stripped = stripSignature(text);

    // Assess
    expect(stripped).toBe(text);
  });

  it('keeps a message that is only a sign-off', () => {
    // Prepare
    const text = 'Thanks!';

    // Act
    const stripped = stripSignature(text);

    // Assess
    expect(stripped).toBe('Thanks!');
  });

  it('keeps "Sent from my account…" in the middle of a message', () => {
    // Prepare
    const text =
      'Sent from my account settings page, the form fails.\nIt says error 500.\nPlease help.\nNow.';

    // Act
    const stripped = stripSignature(text);

    // Assess
    expect(stripped).toBe(text);
  });
});

describe('case tokens and subjects', () => {
  it('reads the case token from a reply subject, case-insensitively', () => {
    // Prepare
    const subject = 'Re: RE: Invoice question [cs-ab12cd34]';

    // Act
    const token = caseTokenOf(subject);

    // Assess
    expect(token).toBe('CS-AB12CD34');
  });

  it('puts exactly one token in the subject, replacing an old one', () => {
    // Prepare
    const subject = 'Invoice question [CS-OLD12345]';

    // Act
    const tagged = withCaseToken(withCaseToken(subject, 'CS-AB12CD34'), 'CS-AB12CD34');

    // Assess
    expect(tagged).toBe('Invoice question [CS-AB12CD34]');
  });

  it('prefixes "Re: " once, folding other reply prefixes and keeping the token', () => {
    // Prepare
    const subjects = ['Invoice', 'Re: Invoice', 'RE: AW: Re[2]: Invoice [CS-AB12CD34]', 'Fwd: Invoice', ''];

    // Act
    const replies = subjects.map(replySubject);

    // Assess
    expect(replies).toEqual([
      'Re: Invoice',
      'Re: Invoice',
      'Re: Invoice [CS-AB12CD34]',
      'Re: Fwd: Invoice',
      'Re: Your message to support',
    ]);
  });

  it('reduces a subject to its topic', () => {
    // Prepare
    const subject = 'Re: Invoice question [CS-AB12CD34]';

    // Act
    const topic = subjectTopic(subject);

    // Assess
    expect(topic).toBe('Invoice question');
  });
});

describe('Message-IDs and thread keys', () => {
  it('normalises ids to one lower-case <…> without whitespace', () => {
    // Prepare
    const values = [' <ABC@Example.COM> ', 'abc@example.com', '<a b@x>', '', '<>'];

    // Act
    const normalised = values.map(normaliseMessageId);

    // Assess
    expect(normalised).toEqual(['<abc@example.com>', '<abc@example.com>', '<ab@x>', undefined, undefined]);
  });

  it('parses a folded References header', () => {
    // Prepare
    const header = '<a@x>\r\n <b@y>  <c@z>';

    // Act
    const ids = parseMessageIds(header);

    // Assess
    expect(ids).toEqual(['<a@x>', '<b@y>', '<c@z>']);
  });

  it('orders parents In-Reply-To first, then References newest first, without duplicates', () => {
    // Prepare
    const email = inbound({
      messageId: '<Self@x>',
      inReplyTo: '<C@z>',
      references: ['<a@x>', '<b@y>', '<c@z>', '<self@x>'],
    });

    // Act
    const keys = threadKeysOf(email);

    // Assess
    expect(keys).toEqual({ messageId: '<self@x>', parents: ['<c@z>', '<b@y>', '<a@x>'] });
  });
});

describe('replyHeaders', () => {
  it('answers the inbound id and extends its References chain', () => {
    // Prepare
    const email = inbound({ messageId: '<m3@x>', inReplyTo: '<r2@us>', references: ['<m1@x>', '<r2@us>'] });

    // Act
    const headers = replyHeaders(email, '<r3@us>');

    // Assess
    expect(headers).toEqual({
      messageId: '<r3@us>',
      inReplyTo: '<m3@x>',
      references: ['<m1@x>', '<r2@us>', '<m3@x>'],
      autoSubmitted: 'auto-replied',
    });
  });

  it('falls back to In-Reply-To when the mail has no References', () => {
    // Prepare
    const email = inbound({ messageId: '<m2@x>', inReplyTo: '<r1@us>' });

    // Act
    const headers = replyHeaders(email, '<r2@us>', 'agent');

    // Assess
    expect(headers.references).toEqual(['<r1@us>', '<m2@x>']);
    expect(headers.autoSubmitted).toBeUndefined();
  });

  it('caps References at the thread root plus the newest ancestors', () => {
    // Prepare
    const references = Array.from({ length: 50 }, (_, i) => `<m${i}@x>`);
    const email = inbound({ messageId: '<last@x>', references });

    // Act
    const headers = replyHeaders(email, '<ours@us>');

    // Assess
    expect(headers.references).toHaveLength(MAX_REFERENCES);
    expect(headers.references[0]).toBe('<m0@x>');
    expect(headers.references.at(-1)).toBe('<last@x>');
    expect(headers.references.at(-2)).toBe('<m49@x>');
  });
});

describe('isAutomatedMail', () => {
  it.each([
    [{ autoSubmitted: 'auto-replied' }, /Auto-Submitted/],
    [{ autoSubmitted: 'auto-generated' }, /Auto-Submitted/],
    [{ precedence: 'bulk' }, /Precedence/],
    [{ precedence: 'junk' }, /Precedence/],
    [{ xAutoreply: 'yes' }, /X-Autoreply/],
    [{ xAutorespond: 'on' }, /X-Autorespond/],
    [{ xAutoResponseSuppress: 'All' }, /X-Auto-Response-Suppress/],
    [{ listId: '<list.example.com>' }, /mailing list/],
    [{ returnPath: '<>' }, /null sender/],
    [{ contentType: 'multipart/report' }, /report/],
  ])('recognises the headers %o', (headers, reason) => {
    // Prepare
    const email = inbound({ headers });

    // Act
    const result = isAutomatedMail(email);

    // Assess
    expect(result).toMatch(reason);
  });

  it.each([
    'Automatic reply: Invoice question',
    'Out of Office: Re: Invoice question',
    'Undeliverable: Re: Invoice question',
    'Delivery Status Notification (Failure)',
    'Abwesenheitsnotiz: Rechnung',
    'Réponse automatique : facture',
  ])('recognises the subject "%s"', (subject) => {
    // Prepare
    const email = inbound({ subject });

    // Act
    const result = isAutomatedMail(email);

    // Assess
    expect(result).toMatch(/automated subject/);
  });

  it.each(['MAILER-DAEMON', 'postmaster', 'no-reply', 'noreply', 'do-not-reply', 'bounces+12'])(
    'recognises the sender %s@…',
    (local) => {
      // Prepare
      const email = inbound({ from: { address: `${local}@mx.example.net` } });

      // Act
      const result = isAutomatedMail(email);

      // Assess
      expect(result).toMatch(/automated sender/);
    },
  );

  it('lets a person through, including "Auto-Submitted: no" and a subject about being out of office', () => {
    // Prepare
    const email = inbound({
      subject: 'Re: my out of office reply is broken in your app',
      headers: { autoSubmitted: 'no', returnPath: '<alice@example.com>' },
    });

    // Act
    const result = isAutomatedMail(email);

    // Assess
    expect(result).toBeUndefined();
  });
});

describe('shouldReply', () => {
  it('allows replies up to the hourly limit, then stops', () => {
    // Prepare
    const four = Array.from({ length: 4 }, (_, i) => ({ sentAt: NOW - i * 60_000 }));
    const five = [...four, { sentAt: NOW - 10 * 60_000 }];

    // Act
    const results = [shouldReply(four, NOW, { maxPerHour: 5 }), shouldReply(five, NOW, { maxPerHour: 5 })];

    // Assess
    expect(results).toEqual([true, false]);
  });

  it('forgets replies older than an hour for the hourly limit', () => {
    // Prepare
    const history = Array.from({ length: 5 }, (_, i) => ({ sentAt: NOW - HOUR - i * 1000 }));

    // Act
    const allowed = shouldReply(history, NOW, { maxPerHour: 5 });

    // Assess
    expect(allowed).toBe(true);
  });

  it('applies the daily limit across hours', () => {
    // Prepare
    const history = Array.from({ length: 20 }, (_, i) => ({ sentAt: NOW - (i + 1) * HOUR + 1 }));

    // Act
    const allowed = shouldReply(history, NOW, { maxPerHour: 5, maxPerDay: 20 });

    // Assess
    expect(allowed).toBe(false);
  });
});
