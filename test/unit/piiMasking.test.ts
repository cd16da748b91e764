import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { containsPii, luhnValid, maskPii, type PiiFinding, type PiiKind } from '#core/piiMasking';

const kinds = (found: readonly PiiFinding[]): PiiKind[] => found.map((f) => f.kind);

/** Median wall time of `runs` calls, after a warm-up, so one GC pause does not fail the test. */
function medianMs(fn: () => void, runs: number): number {
  for (let i = 0; i < 5; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

describe('maskPii: emails', () => {
  it('masks a plus-addressed email on a subdomain', () => {
    // Prepare
    const text = 'Send it to jane.doe+billing@mail.example.co.uk please.';
    // Act
    const result = maskPii(text);
    // Assess
    expect(result.text).toBe('Send it to [EMAIL] please.');
    expect(result.found).toEqual([{ kind: 'email', start: 11, end: 46 }]);
  });

  it('leaves @mentions and bare domains alone', () => {
    // Prepare
    const text = 'Ping @sam about beacon.example and @ops-team.';
    // Act
    const result = maskPii(text);
    // Assess
    expect(result.found).toEqual([]);
  });
});

describe('maskPii: phone numbers', () => {
  it.each([
    ['E.164', 'Call +14155550123 today', '+14155550123'],
    ['UK international', 'Call +44 20 7946 0958 today', '+44 20 7946 0958'],
    ['UK with trunk zero in parentheses', 'Call +44 (0)20 7946 0958 today', '+44 (0)20 7946 0958'],
    ['US with area code in parentheses', 'Call (415) 555-0132 today', '(415) 555-0132'],
    ['US with dots', 'Call 415.555.0132 today', '415.555.0132'],
    ['US with country code and dashes', 'Call 1-800-555-0199 today', '1-800-555-0199'],
    ['French national without spaces', 'Appelez 0612345678 demain', '0612345678'],
    ['French national in pairs', 'Appelez 06 12 34 56 78 demain', '06 12 34 56 78'],
    ['German with a slash', 'Fax 030/23125111 bitte', '030/23125111'],
  ])('masks a phone number written in %s format', (_format, text, phone) => {
    // Prepare
    const start = text.indexOf(phone);
    // Act
    const result = maskPii(text);
    // Assess
    expect(result.found).toEqual([{ kind: 'phone', start, end: start + phone.length }]);
    expect(result.text).toBe(text.replace(phone, '[PHONE]'));
  });

  it('masks a bare local number only when the words before it ask for a call', () => {
    // Prepare
    const cued = 'Call me: 5550142 any time.';
    const uncued = 'Order 5550142 is late.';
    // Act
    const cuedResult = maskPii(cued);
    const uncuedResult = maskPii(uncued);
    // Assess
    expect(cuedResult.text).toBe('Call me: [PHONE] any time.');
    expect(uncuedResult.found).toEqual([]);
  });

  it.each([
    ['a date', 'The outage started on 2026-11-28.'],
    ['a European date', 'Renewal on 28.11.2026 please.'],
    ['a US date after a call cue', 'I had a call on 11/28/2026 with your team.'],
    ['a time', 'It failed at 14:30:00 and at 09:15.'],
    ['an ISO timestamp', 'Logged at 2026-11-28T14:30:00Z.'],
    ['a version number', 'Since v2.3.1 and 10.4.2 it crashes.'],
    ['an invoice id', 'Invoice INV-2026-0042 is wrong.'],
    ['an error code', 'We get ERR_429 and HTTP 500.'],
    ['an amount', 'We paid $1,200.00 and 9.870,25 EUR.'],
    ['a year', 'Reports from 2019 to 2025.'],
    ['an order number', 'Order 20261128001 and PO 4500012345 are paid.'],
    ['an epoch timestamp', 'Created at 1764322800 and 1764322800000.'],
  ])('does not mask %s', (_what, text) => {
    // Prepare
    const original = text;
    // Act
    const result = maskPii(original);
    // Assess
    expect(result.found).toEqual([]);
    expect(result.text).toBe(original);
  });
});

describe('maskPii: payment cards', () => {
  it('masks a Luhn-valid card number written with spaces', () => {
    // Prepare
    const text = 'Charged twice on 4111 1111 1111 1111, please refund.';
    // Act
    const result = maskPii(text);
    // Assess
    expect(result.text).toBe('Charged twice on [CARD], please refund.');
    expect(kinds(result.found)).toEqual(['card']);
  });

  it('masks Luhn-valid cards written with dashes, in Amex grouping and without separators', () => {
    // Prepare
    const text = 'Cards 5555-5555-5555-4444, 3782 822463 10005 and 4012888888881881.';
    // Act
    const result = maskPii(text);
    // Assess
    expect(result.text).toBe('Cards [CARD], [CARD] and [CARD].');
  });

  it('leaves a Luhn-failing 16-digit run unmasked', () => {
    // Prepare
    const text = 'Reference 4111 1111 1111 1112 from the bank statement.';
    // Act
    const result = maskPii(text);
    // Assess
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(result.found).toEqual([]);
  });
});

describe('maskPii: IBAN, SSN, IP', () => {
  it('masks a mod-97-valid IBAN with or without spaces', () => {
    // Prepare
    const text = 'Refund DE89 3704 0044 0532 0130 00 or NL91ABNA0417164300.';
    // Act
    const result = maskPii(text);
    // Assess
    expect(result.text).toBe('Refund [IBAN] or [IBAN].');
    expect(kinds(result.found)).toEqual(['iban', 'iban']);
  });

  it('leaves an IBAN-shaped string with a wrong check digit unmasked', () => {
    // Prepare
    const text = 'Account DE88 3704 0044 0532 0130 00 is not valid.';
    // Act
    const result = maskPii(text);
    // Assess
    expect(kinds(result.found)).not.toContain('iban');
    expect(result.text).toContain('DE88');
  });

  it('masks a US social security number written ddd-dd-dddd', () => {
    // Prepare
    const text = 'My SSN is 078-05-1120.';
    // Act
    const result = maskPii(text);
    // Assess
    expect(result.text).toBe('My SSN is [SSN].');
  });

  it('masks an IPv4 address but keeps its port', () => {
    // Prepare
    const text = 'Connector at 10.0.4.17:5432 times out.';
    // Act
    const result = maskPii(text);
    // Assess
    expect(result.text).toBe('Connector at [IP]:5432 times out.');
  });

  it('does not mask a four-part version number introduced as a version', () => {
    // Prepare
    const text = 'Version 4.2.1.0 of the agent and Chrome 120.0.6099.109.';
    // Act
    const result = maskPii(text);
    // Assess
    expect(result.found).toEqual([]);
  });
});

describe('maskPii: street addresses', () => {
  it.each([
    [
      'a US street with a suite',
      'Ship to 1600 Pennsylvania Avenue NW, Suite 400 today.',
      '1600 Pennsylvania Avenue NW, Suite 400',
    ],
    ['a numbered UK street', 'Bill 221B Baker Street please.', '221B Baker Street'],
    ['a German street', 'Rechnung an Hauptstraße 12 bitte.', 'Hauptstraße 12'],
    ['a French street', 'Livrer au 12 rue de la Paix demain.', '12 rue de la Paix'],
    ['an Italian street', 'Fattura a Via Roma 10 grazie.', 'Via Roma 10'],
  ])('masks %s', (_what, text, address) => {
    // Prepare
    const start = text.indexOf(address);
    // Act
    const result = maskPii(text);
    // Assess
    expect(result.found).toEqual([{ kind: 'address', start, end: start + address.length }]);
  });

  it('does not read product talk like "2 Google Drive folders" as an address', () => {
    // Prepare
    const text = 'We sync 2 Google Drive folders and step 3 place the widget.';
    // Act
    const result = maskPii(text);
    // Assess
    expect(result.found).toEqual([]);
  });
});

describe('maskPii: offsets and overlaps', () => {
  it('reports offsets in the original text when several findings shift the masked text', () => {
    // Prepare
    const text = 'a@example.com, (415) 555-0132, 203.0.113.42';
    // Act
    const result = maskPii(text);
    // Assess
    expect(result.text).toBe('[EMAIL], [PHONE], [IP]');
    expect(result.found.map((f) => text.slice(f.start, f.end))).toEqual([
      'a@example.com',
      '(415) 555-0132',
      '203.0.113.42',
    ]);
  });

  it('keeps the longest finding when an IBAN contains a card-shaped digit run', () => {
    // Prepare
    const text = 'IBAN GB29 NWBK 6016 1331 9268 19 and DE89 3704 0044 0532 0130 00.';
    // Act
    const result = maskPii(text);
    // Assess
    expect(kinds(result.found)).toEqual(['iban', 'iban']);
  });

  it('reports whether a text contains any PII', () => {
    // Prepare
    const withPii = 'call 020 7946 0321';
    const withoutPii = 'Dashboard 3021 is slow since v2.3.1.';
    // Act
    const answers = [containsPii(withPii), containsPii(withoutPii)];
    // Assess
    expect(answers).toEqual([true, false]);
  });
});

interface CorpusLine {
  readonly text: string;
  readonly pii: readonly string[];
}

describe('maskPii: labelled corpus', () => {
  const corpus: CorpusLine[] = readFileSync(new URL('../../data/pii/corpus.jsonl', import.meta.url), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as CorpusLine);

  it('leaks no labelled PII and masks under 2% of the tokens that are not PII', () => {
    // Prepare
    const leaks: string[] = [];
    let labelled = 0;
    let covered = 0;
    let findings = 0;
    let truePositives = 0;
    let cleanTokens = 0;
    let maskedCleanTokens = 0;
    // Act
    for (const { text, pii } of corpus) {
      const { text: masked, found } = maskPii(text);
      const spans = pii.map((p) => ({ start: text.indexOf(p), end: text.indexOf(p) + p.length }));
      for (const [k, p] of pii.entries()) {
        labelled++;
        if (masked.includes(p)) leaks.push(`${p} in: ${text}`);
        const span = spans[k]!;
        if (found.some((f) => f.start <= span.start && f.end >= span.end)) covered++;
      }
      findings += found.length;
      truePositives += found.filter((f) => spans.some((s) => f.start < s.end && s.start < f.end)).length;
      for (const token of text.matchAll(/\S+/g)) {
        const start = token.index;
        const end = start + token[0].length;
        if (spans.some((s) => start < s.end && s.start < end)) continue;
        cleanTokens++;
        if (found.some((f) => start < f.end && f.start < end)) maskedCleanTokens++;
      }
    }
    const recall = covered / labelled;
    const precision = findings === 0 ? 1 : truePositives / findings;
    const falsePositiveRate = maskedCleanTokens / cleanTokens;
    console.info(
      `PII corpus: ${corpus.length} lines, ${labelled} labelled spans, recall ${(recall * 100).toFixed(1)}%, ` +
        `precision ${(precision * 100).toFixed(1)}%, false-positive tokens ${maskedCleanTokens}/${cleanTokens} ` +
        `(${(falsePositiveRate * 100).toFixed(2)}%)`,
    );
    // Assess
    expect(corpus.length).toBeGreaterThanOrEqual(150);
    expect(leaks).toEqual([]);
    expect(falsePositiveRate).toBeLessThan(0.02);
  });

  it('masks nothing at all in the lines labelled as free of PII', () => {
    // Prepare
    const negatives = corpus.filter((line) => line.pii.length === 0);
    // Act
    const masked = negatives.filter((line) => containsPii(line.text)).map((line) => line.text);
    // Assess
    expect(negatives.length).toBeGreaterThanOrEqual(60);
    expect(masked).toEqual([]);
  });
});

describe('maskPii: performance', () => {
  // Bounds are loose on purpose (tests share 2 cores): they catch super-linear regexes, not micro-regressions.
  it('masks a typical 4,000-character support message in well under 20 ms', () => {
    // Prepare
    const message =
      'Hi, I was charged twice (4111 1111 1111 1111) on 2026-11-28 for INV-2026-0042. Call me on (415) 555-0132 ' +
      'or email jane.doe+billing@example.com; our office is 221B Baker Street. The app v2.3.1 shows ERR_429. ';
    const text = message.repeat(Math.ceil(4000 / message.length)).slice(0, 4000);
    // Act
    const ms = medianMs(() => maskPii(text), 50);
    // Assess
    console.info(`4,000-char message masked in ${ms.toFixed(3)} ms (median)`);
    expect(ms).toBeLessThan(20);
  });

  it.each([
    ['a long local part before a lone @', 'a'.repeat(50_000) + '@'],
    ['many @ signs', 'a@'.repeat(25_000)],
    ['a long digit run', '1'.repeat(50_000)],
    ['space-separated digit groups', '1234 '.repeat(10_000)],
    ['dash-separated digit groups', '415-555-'.repeat(6_000)],
    ['dotted digit groups', '1.2.'.repeat(12_500)],
    ['parenthesised digit groups', '(0)1 '.repeat(10_000)],
    ['IBAN-shaped prefixes', 'DE89 '.repeat(10_000)],
    ['address-shaped words', '12 Main '.repeat(6_000)],
    ['a long capitalised word', 'H' + 'a'.repeat(50_000) + ' 12'],
    ['French address particles', '12 rue de la de la '.repeat(3_000)],
  ])('finishes %s in linear time (under 1 s for 50,000 characters)', (_what, text) => {
    // Prepare: let the JIT compile on the same shape of input, so the timing reflects the algorithm.
    for (let i = 0; i < 5; i++) maskPii(text.slice(0, 5_000));
    // Act
    const t0 = performance.now();
    maskPii(text);
    const ms = performance.now() - t0;
    // Assess
    expect(ms).toBeLessThan(1000);
  });
});
