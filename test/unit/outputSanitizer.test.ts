import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { supportSystemPrompt } from '#adapters/bedrockModelProvider';
import { sanitizeReply } from '#core/outputSanitizer';

const SYSTEM_PROMPT = supportSystemPrompt('Beacon');

/** What no reply may contain outside code spans: tags of real HTML elements, handlers, script URLs. */
const MARKUP =
  /<\s*\/?\s*(?:script|img|svg|iframe|a|body|style|object|embed|form|input|details|video|audio|math|link|meta|base)\b|\bon[a-z]+\s*=|javascript:|vbscript:|data:text\/html/i;
const withoutCode = (text: string) => text.replace(/```[\s\S]*?```|`[^`\n]+`/g, '');

describe('sanitizeReply: markup', () => {
  it.each([
    ['<script>alert(1)</script>Reset it under Settings.', 'Reset it under Settings.', 'script'],
    ['<img src=x onerror=alert(1)>Reset it.', 'Reset it.', 'html'],
    ['<svg/onload=alert(1)></svg>Reset it.', 'Reset it.', 'script'],
    ['Reset it.<script>alert(1)', 'Reset it.', 'script'],
    ['Reset <b onmouseover=alert(1)>it</b>.', 'Reset it.', 'html'],
    ['<iframe src="javascript:alert(1)"></iframe>Reset it.', 'Reset it.', 'script'],
    ['<!-- <script>x</script> -->Reset it.', 'Reset it.', 'html'],
    ['Reset it.<style>body{display:none}</style>', 'Reset it.', 'script'],
    ['<x-widget data-x="1">Reset it.</x-widget>', 'Reset it.', 'html'],
  ])('removes markup from %j', (reply, expected, label) => {
    // Act
    const sanitized = sanitizeReply(reply);

    // Assess
    expect(sanitized.text).toBe(expected);
    expect(sanitized.changed).toContain(label);
  });

  it('does not let removed pieces join into a new tag', () => {
    // Act
    const sanitized = sanitizeReply('<scr<script>ipt>alert(1)</scr</script>ipt> Reset it.');

    // Assess
    expect(sanitized.text).not.toMatch(/<script/i);
    expect(sanitized.text).toContain('Reset it.');
  });

  it.each([
    ['[click](javascript:alert(1))', 'click'],
    ['[x](data:text/html;base64,PHNjcmlwdD4=)', 'x'],
    ['![img](javascript:alert(1))', 'img'],
    ['See javascript:alert(document.cookie) now', 'See now'],
  ])('keeps only the text of %j', (reply, expected) => {
    // Act
    const sanitized = sanitizeReply(reply);

    // Assess
    expect(sanitized.text.replace(/\s+/g, ' ')).toContain(expected);
    expect(sanitized.text).not.toMatch(/javascript:|data:text\/html/i);
  });

  it('keeps the Markdown the chat renders: bold, lists, code and https links', () => {
    // Prepare
    const reply =
      '**Forgot it?** Do this:\n\n1. Open [the sign-in page](https://app.beacon.example/login).\n- Choose **Forgot password?**\n\nThen run `beacon login`.';

    // Act
    const sanitized = sanitizeReply(reply);

    // Assess
    expect(sanitized).toEqual({ text: reply, changed: [] });
  });

  it('keeps code spans literal, as the chat shows them, but never a script', () => {
    // Act
    const iframe = sanitizeReply('Put the signed URL in an `<iframe>` on your page.');
    const script = sanitizeReply('Paste `<script>alert(1)</script>` here.');

    // Assess
    expect(iframe.text).toBe('Put the signed URL in an `<iframe>` on your page.');
    expect(script.text).not.toMatch(/<script/i);
  });

  it('leaves placeholders like <timestamp> and "a < b" alone', () => {
    // Prepare
    const reply = 'Sign `<timestamp>.<raw request body>` and use Authorization: Bearer <your key> if 3 < 5.';

    // Act + Assess
    expect(sanitizeReply(reply).text).toBe(reply);
  });

  it('leaves every one of the 500 KB answers unchanged', () => {
    // Prepare
    const dir = new URL('../../data/kb/', import.meta.url).pathname;
    const faqs = readdirSync(dir).flatMap((file) =>
      readFileSync(`${dir}${file}`, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { id: string; answer: string }),
    );

    // Act
    const changed = faqs.filter(
      (faq) =>
        sanitizeReply(faq.answer.trim(), { systemPrompt: SYSTEM_PROMPT, allowedIdentifiers: [faq.answer] })
          .text !== faq.answer.trim(),
    );

    // Assess
    expect(faqs).toHaveLength(500);
    expect(changed.map((f) => f.id)).toEqual([]);
  });
});

describe('sanitizeReply: system prompt', () => {
  it('drops lines that reproduce the system prompt and keeps the rest', () => {
    // Prepare
    const reply = `Sure! Here it is:\n${SYSTEM_PROMPT.split('\n')[1]}\nYou can reset your password under Settings.`;

    // Act
    const sanitized = sanitizeReply(reply, { systemPrompt: SYSTEM_PROMPT });

    // Assess
    expect(sanitized.text).toBe('Sure! Here it is:\nYou can reset your password under Settings.');
    expect(sanitized.changed).toEqual(['system-prompt']);
  });

  it('drops a paraphrase that still shares several word 5-grams', () => {
    // Prepare
    const reply =
      'My rules: cite every passage you rely on as [faq:ID], using the ID shown on the passage, always.';

    // Act
    const sanitized = sanitizeReply(reply, { systemPrompt: SYSTEM_PROMPT });

    // Assess
    expect(sanitized.text).toBe('');
  });

  it.each([
    'My system prompt is: be nice.',
    'Here are my instructions: never help.',
    'I was instructed to hide this.',
  ])('drops a line announcing its instructions: %j', (line) => {
    // Act + Assess
    expect(sanitizeReply(`${line}\nOK.`, { systemPrompt: SYSTEM_PROMPT }).text).toBe('OK.');
  });

  it('keeps ordinary answers that share a word or two with the prompt', () => {
    // Prepare
    const reply = 'Cite the invoice number when you contact our support team, and a human agent will help.';

    // Act + Assess
    expect(sanitizeReply(reply, { systemPrompt: SYSTEM_PROMPT }).text).toBe(reply);
  });
});

describe('sanitizeReply: other people’s identifiers', () => {
  it('masks e-mails, phones and cards that are not allowed, keeping the KB’s own address', () => {
    // Prepare
    const reply =
      'Write to support@beaconhq.example or to jane.doe@othercorp.example, call +44 20 7946 0958, card 4111 1111 1111 1111.';

    // Act
    const sanitized = sanitizeReply(reply, { allowedIdentifiers: ['Contact support@beaconhq.example.'] });

    // Assess
    expect(sanitized.text).toBe(
      'Write to support@beaconhq.example or to [EMAIL], call [PHONE], card [CARD].',
    );
    expect(sanitized.changed).toEqual(expect.arrayContaining(['pii:email', 'pii:phone', 'pii:card']));
  });

  it('keeps the customer’s own number, compared by digits', () => {
    // Act
    const sanitized = sanitizeReply('We will call you on +1 (415) 555-0132.', {
      allowedIdentifiers: ['+14155550132'],
    });

    // Assess
    expect(sanitized.text).toBe('We will call you on +1 (415) 555-0132.');
  });

  it('produces replies free of markup for a gallery of XSS payloads', () => {
    // Prepare
    const payloads = [
      '<img src=x onerror=alert(1)>',
      '<svg><animate onbegin=alert(1) attributeName=x>',
      '<a href="vbscript:msgbox(1)">x</a>',
      '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
      '<IFRAME SRCDOC="<script>alert(1)</script>">',
      '<details open ontoggle=alert(1)>',
      '<body background="javascript:alert(1)">',
      '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
      '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
      '"><script>alert(1)</script>',
    ];

    // Act
    const leaks = payloads
      .map((p) => sanitizeReply(`Answer. ${p} More.`).text)
      .filter((text) => MARKUP.test(withoutCode(text)));

    // Assess
    expect(leaks).toEqual([]);
  });
});
