import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidEmailError, type InvalidEmailReason, parseInboundEmail } from '#adapters/mimeParser';
import { isAutomatedMail } from '#core/emailThreading';

const CORPUS = join(import.meta.dirname, '..', 'fixtures', 'email');
const corpusFiles = readdirSync(CORPUS)
  .filter((f) => f.endsWith('.eml'))
  .sort();
const fixture = (name: string) => readFileSync(join(CORPUS, name));

/** What each corpus file must become: an e-mail (optionally automated) or an InvalidEmailError reason. */
type Expected = { email: true; automated?: boolean } | { invalid: InvalidEmailReason };
const EXPECTED: Record<string, Expected> = {
  '8bit-headers.eml': { email: true },
  'apple-mail-reply.eml': { email: true },
  'auto-reply-outlook-oof.eml': { email: true, automated: true },
  'auto-reply-subject-only.eml': { email: true, automated: true },
  'auto-reply-vacation-precedence.eml': { email: true, automated: true },
  'auto-reply-x-autorespond.eml': { email: true, automated: true },
  'bad-base64-attachment.eml': { email: true },
  'bad-base64-body.eml': { email: true },
  'bad-charset.eml': { email: true },
  'binary-garbage.eml': { invalid: 'no-from' },
  'bounce-dsn.eml': { email: true, automated: true },
  'broken-quoted-printable.eml': { email: true },
  'deep-nesting.eml': { email: true },
  'duplicate-headers.eml': { email: true },
  'encoded-words.eml': { email: true },
  'gmail-forwarded-inline.eml': { email: true },
  'gmail-reply.eml': { email: true },
  'group-from.eml': { invalid: 'no-from' },
  'headers-only-no-separator.eml': { email: true },
  'html-only.eml': { email: true },
  'html-with-script.eml': { email: true },
  'huge-references-header.eml': { email: true },
  'invalid-from.eml': { invalid: 'no-from' },
  'iso-2022-jp.eml': { email: true },
  'long-line.eml': { email: true },
  'mailing-list.eml': { email: true, automated: true },
  'missing-boundary.eml': { email: true },
  'missing-message-id.eml': { email: true },
  'mixed-line-endings.eml': { email: true },
  'multipart-alternative.eml': { email: true },
  'nested-rfc822.eml': { email: true },
  'no-body.eml': { invalid: 'no-body' },
  'no-from.eml': { invalid: 'no-from' },
  'noreply-sender.eml': { email: true, automated: true },
  'null-bytes.eml': { email: true },
  'outlook-html-reply.eml': { email: true },
  'outlook-original-message.eml': { email: true },
  'outlook-reply.eml': { email: true },
  'plain.eml': { email: true },
  'signature-delimiter.eml': { email: true },
  'truncated-multipart.eml': { email: true },
  'with-attachment.eml': { email: true },
  'zero-byte.eml': { invalid: 'unparseable' },
};

/** Parses and reports what came out, turning only InvalidEmailError into a value: anything else throws. */
async function outcomeOf(raw: Buffer | string) {
  try {
    return { email: (await parseInboundEmail(raw)).email };
  } catch (error) {
    if (error instanceof InvalidEmailError) return { invalid: error.reason, message: error.message };
    throw error;
  }
}

function mail(headers: string, body: string) {
  return `${headers.trim().split('\n').join('\r\n')}\r\n\r\n${body.split('\n').join('\r\n')}`;
}

describe('parseInboundEmail over the malformed-MIME corpus', () => {
  it('has an expectation for every corpus file, and at least 25 files', () => {
    // Prepare
    const expected = Object.keys(EXPECTED).sort();

    // Act
    const files = corpusFiles;

    // Assess
    expect(files.length).toBeGreaterThanOrEqual(25);
    expect(files).toEqual(expected);
  });

  it.each(corpusFiles)('turns %s into an InboundEmail or an InvalidEmailError', async (name) => {
    // Prepare
    const raw = fixture(name);

    // Act
    const outcome = await outcomeOf(raw);

    // Assess
    const expected = EXPECTED[name]!;
    if ('invalid' in expected) {
      expect(outcome).toMatchObject({ invalid: expected.invalid });
      return;
    }
    expect(outcome.email).toBeDefined();
    const email = outcome.email!;
    expect(email.messageId).toMatch(/^<[^<>\s]+>$/);
    expect(email.from.address).toMatch(/^[^\s@]+@[^\s@]+$/);
    expect(email.text + email.subject).not.toBe('');
    expect(Boolean(isAutomatedMail(email))).toBe(expected.automated ?? false);
  });

  it('survives 300 random truncations and byte flips of the corpus without an untyped error', async () => {
    // Prepare
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const sources = corpusFiles.map(fixture).filter((b) => b.length > 0 && b.length < 10_000);
    const mutants = Array.from({ length: 300 }, () => {
      const source = Buffer.from(sources[Math.floor(random() * sources.length)]!);
      if (random() < 0.5) return source.subarray(0, Math.floor(random() * source.length));
      for (let k = 0; k < 8; k++) source[Math.floor(random() * source.length)] = Math.floor(random() * 256);
      return source;
    });

    // Act
    const outcomes = await Promise.all(mutants.map(outcomeOf));

    // Assess
    expect(outcomes).toHaveLength(300);
    for (const outcome of outcomes) expect('email' in outcome || 'invalid' in outcome).toBe(true);
  });
});

describe('parseInboundEmail', () => {
  it('reads a plain mail: ids, sender, recipients, subject, text', async () => {
    // Prepare
    const raw = fixture('plain.eml');

    // Act
    const { email, attachmentContents } = await parseInboundEmail(raw, {
      receivedAt: Date.UTC(2026, 2, 2, 9),
    });

    // Assess
    expect(email).toEqual({
      messageId: '<plain-1@example.com>',
      references: [],
      from: { address: 'alice@example.com', name: 'Alice Example' },
      to: ['support@example.com'],
      subject: 'Invoice question',
      text: 'Hello, where can I download my invoice?',
      receivedAt: '2026-03-02T09:00:00.000Z',
      headers: { contentType: 'text/plain' },
      attachments: [],
    });
    expect(attachmentContents).toEqual([]);
  });

  it('keeps only the customer words of a Gmail reply, with its threading headers', async () => {
    // Prepare
    const raw = fixture('gmail-reply.eml');

    // Act
    const { email } = await parseInboundEmail(raw);

    // Assess
    expect(email.text).toBe('Thanks, but the invoice for February is missing.');
    expect(email.inReplyTo).toBe('<reply-abc@example.com>');
    expect(email.references).toEqual(['<plain-1@example.com>', '<reply-abc@example.com>']);
    expect(email.subject).toBe('Re: Invoice question [CS-AB12CD34]');
  });

  it.each([
    ['outlook-reply.eml', 'The reset link has expired again. Can you send a new one?\n\nBob'],
    ['outlook-original-message.eml', 'I still have not received the refund for order 1234.'],
    ['outlook-html-reply.eml', 'The export still times out after 30 seconds.'],
    ['apple-mail-reply.eml', 'Where is my parcel now?'],
    ['signature-delimiter.eml', 'What are the API rate limits on the Pro plan?'],
    ['encoded-words.eml', 'Wann bekomme ich mein Geld zurück?'],
  ])('cleans %s down to what the customer wrote', async (name, text) => {
    // Prepare
    const raw = fixture(name);

    // Act
    const { email } = await parseInboundEmail(raw);

    // Assess
    expect(email.text).toBe(text);
  });

  it('derives the text of an HTML-only mail and keeps the HTML', async () => {
    // Prepare
    const raw = fixture('html-only.eml');

    // Act
    const { email } = await parseInboundEmail(raw);

    // Assess
    expect(email.text).toBe('Hello,\n\nI cannot log in since yesterday.');
    expect(email.html).toContain('<b>cannot log in</b>');
  });

  it('decodes encoded words and 8-bit headers', async () => {
    // Prepare
    const encoded = fixture('encoded-words.eml');
    const eightBit = fixture('8bit-headers.eml');

    // Act
    const [a, b] = await Promise.all([parseInboundEmail(encoded), parseInboundEmail(eightBit)]);

    // Assess
    expect(a.email.subject).toBe('Rückerstattung für Bestellung');
    expect(a.email.from.name).toBe('Zoé Müller');
    expect(b.email.subject).toBe('Café résumé – ¿factura?');
    expect(b.email.from.name).toBe('Pérez Ñandú');
  });

  it('treats a body that decodes to noise as empty, keeping the subject', async () => {
    // Prepare
    const raw = fixture('bad-base64-body.eml');

    // Act
    const { email } = await parseInboundEmail(raw);

    // Assess
    expect(email.text).toBe('');
    expect(email.subject).toBe('Broken encoding');
  });

  it('removes control characters from subject and text', async () => {
    // Prepare
    const raw = fixture('null-bytes.eml');

    // Act
    const { email } = await parseInboundEmail(raw);

    // Assess
    expect(email.text).toBe('My app crashes on start.');
    expect(email.subject).toBe('Nullbytes');
  });

  it('returns attachment bytes separately, with a safe file name', async () => {
    // Prepare
    const raw = fixture('with-attachment.eml');

    // Act
    const { email, attachmentContents } = await parseInboundEmail(raw);

    // Assess
    expect(email.attachments).toEqual([
      { filename: 'invoice.pdf', contentType: 'application/pdf', size: 30, stored: true },
    ]);
    expect(attachmentContents).toHaveLength(1);
    expect(attachmentContents[0]).toMatchObject({ index: 0, filename: 'invoice.pdf' });
    expect(attachmentContents[0]!.content.toString('latin1')).toContain('%PDF-1.4');
  });

  it('lists an embedded message/rfc822 as an attachment', async () => {
    // Prepare
    const raw = fixture('nested-rfc822.eml');

    // Act
    const { email } = await parseInboundEmail(raw);

    // Assess
    expect(email.text).toBe('I got this warning, is it from you?');
    expect(email.attachments.map((a) => a.contentType)).toEqual(['message/rfc822']);
  });

  it('flags an attachment over the limit as not stored and drops its content', async () => {
    // Prepare
    const big = Buffer.alloc(10 * 1024 * 1024 + 1, 0x41)
      .toString('base64')
      .replace(/.{76}/g, '$&\r\n');
    const raw = mail(
      `From: big@example.com\nSubject: Huge log\nMessage-ID: <big@example.com>\nContent-Type: multipart/mixed; boundary="b"`,
      `--b\nContent-Type: text/plain\n\nLog attached.\n--b\nContent-Type: text/plain; name="app.log"\nContent-Disposition: attachment; filename="app.log"\nContent-Transfer-Encoding: base64\n\n${big}\n--b\nContent-Type: image/png; name="small.png"\nContent-Disposition: attachment; filename="small.png"\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--b--\n`,
    );

    // Act
    const { email, attachmentContents } = await parseInboundEmail(raw);

    // Assess
    expect(email.attachments).toEqual([
      { filename: 'app.log', contentType: 'text/plain', size: 10 * 1024 * 1024 + 1, stored: false },
      { filename: 'small.png', contentType: 'image/png', size: 8, stored: true },
    ]);
    expect(attachmentContents.map((a) => a.index)).toEqual([1]);
  });

  it('rejects a raw mail over the size limit before parsing it', async () => {
    // Prepare
    const raw = Buffer.alloc(25 * 1024 * 1024 + 1, 0x41);

    // Act
    const outcome = await outcomeOf(raw);

    // Assess
    expect(outcome).toMatchObject({ invalid: 'too-large' });
  });

  it('rejects a header block over a megabyte as unparseable', async () => {
    // Prepare
    const raw = mail(`From: a@example.com\nSubject: Huge\nX-Huge: ${'x'.repeat(1_100_000)}`, 'Hello');

    // Act
    const outcome = await outcomeOf(raw);

    // Assess
    expect(outcome).toMatchObject({ invalid: 'unparseable' });
  });

  it('synthesises a stable Message-ID when the mail has none', async () => {
    // Prepare
    const raw = fixture('missing-message-id.eml');

    // Act
    const [first, second] = await Promise.all([parseInboundEmail(raw), parseInboundEmail(raw)]);

    // Assess
    expect(first.email.messageId).toMatch(/^<[0-9a-f]{32}@synthesised\.invalid>$/);
    expect(second.email.messageId).toBe(first.email.messageId);
  });

  it('reads the automation headers and takes the null envelope sender as Return-Path', async () => {
    // Prepare
    const raw = mail(
      'From: robot@example.com\nSubject: Report\nAuto-Submitted: auto-generated\nPrecedence: bulk\nList-Id: <l.example.com>\nX-Auto-Response-Suppress: OOF, AutoReply',
      'Weekly report',
    );

    // Act
    const { email } = await parseInboundEmail(raw, { envelopeFrom: '' });

    // Assess
    expect(email.headers).toEqual({
      autoSubmitted: 'auto-generated',
      precedence: 'bulk',
      listId: '<l.example.com>',
      xAutoResponseSuppress: 'OOF, AutoReply',
      returnPath: '<>',
    });
  });

  it('reads the verdicts SES receiving put on top, not the ones a sender forged below', async () => {
    // Prepare
    const raw = mail(
      [
        'Authentication-Results: amazonses.com;',
        ' spf=fail (spfCheck: domain does not designate sender) smtp.mailfrom=ceo@bank.example;',
        ' dkim=fail header.i=@bank.example; dmarc=fail header.from=bank.example;',
        'X-SES-Spam-Verdict: PASS',
        'X-SES-Virus-Verdict: PASS',
        'Authentication-Results: amazonses.com; spf=pass; dkim=pass; dmarc=pass',
        'X-SES-Spam-Verdict: PASS',
        'From: ceo@bank.example',
        'Subject: Urgent',
      ].join('\n'),
      'Please reset my password.',
    );

    // Act
    const { email } = await parseInboundEmail(raw, { sesReceiptHeaders: true });

    // Assess
    expect(email.authentication).toEqual({
      dkim: 'fail',
      spf: 'fail',
      dmarc: 'fail',
      spam: 'pass',
      virus: 'pass',
    });
  });

  it('ignores SES-looking headers unless told the mail came through SES', async () => {
    // Prepare
    const raw = mail('X-SES-Spam-Verdict: FAIL\nFrom: a@example.com\nSubject: Hi', 'Hello');

    // Act
    const { email } = await parseInboundEmail(raw);

    // Assess
    expect(email.authentication).toBeUndefined();
  });

  it('passes SES verdicts through', async () => {
    // Prepare
    const raw = fixture('plain.eml');
    const authentication = { dkim: 'pass', spf: 'pass', dmarc: 'pass' } as const;

    // Act
    const { email } = await parseInboundEmail(raw, { authentication });

    // Assess
    expect(email.authentication).toEqual(authentication);
  });
});
