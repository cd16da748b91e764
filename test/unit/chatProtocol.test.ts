import { describe, expect, it } from 'vitest';
import { CLIENT_MESSAGE_ID, cleanCustomerText, ERROR_CODES, sendMessageSchema } from '#core/chatProtocol';

describe('cleanCustomerText', () => {
  it.each([
    [
      'control characters other than tab and newline',
      'a\u0000b\u0007c\u001Bd\u007Fe\u0085f\tg\nh',
      'abcdef\tg\nh',
    ],
    ['bidi embeddings, overrides and isolates', 'pay \u202Eevil\u202C and \u2066x\u2069', 'pay evil and x'],
    ['lone surrogates, keeping pairs', 'a\uD800b\uDC00c😀', 'abc😀'],
    ['CRLF and CR line breaks', 'one\r\ntwo\rthree', 'one\ntwo\nthree'],
    ['invisible characters at the ends', '\u200B\uFEFF hello \u2060\u200D', 'hello'],
  ])('removes %s', (_what, input, expected) => {
    // Act + Assess
    expect(cleanCustomerText(input)).toBe(expected);
  });

  it('normalises to NFC, so both spellings of café are one string', () => {
    // Act
    const decomposed = cleanCustomerText('cafe\u0301');

    // Assess
    expect(decomposed).toBe('caf\u00E9');
    expect(decomposed).toBe(cleanCustomerText('café'));
  });

  it('keeps emoji ZWJ sequences, flags and skin tones whole', () => {
    // Prepare
    const text = '👨‍👩‍👧‍👦 🇩🇪 👩🏽‍💻';

    // Act + Assess
    expect(cleanCustomerText(text)).toBe(text);
  });

  it('caps stacks of combining marks at 8 per character', () => {
    // Act
    const cleaned = cleanCustomerText(`Z${'\u0336'.repeat(300)}!`);

    // Assess
    expect(cleaned).toBe(`Z${'\u0336'.repeat(8)}!`);
  });
});

describe('sendMessageSchema', () => {
  it.each(['\u202E', '\u0000\u0001', '\uD800', '\u200B\u2060', '\r\n'])(
    'refuses text %j that is empty once cleaned',
    (text) => {
      // Act
      const parsed = sendMessageSchema.safeParse({ action: 'sendMessage', text });

      // Assess
      expect(parsed.success).toBe(false);
    },
  );

  it('stores the cleaned text', () => {
    // Act
    const parsed = sendMessageSchema.parse({
      action: 'sendMessage',
      text: ' \u202EHow do I reset my password?\u0000 ',
    });

    // Assess
    expect(parsed.text).toBe('How do I reset my password?');
  });

  it.each(['../x', 'a/b', '<script>', 'id-ü', 'has space', '', 'x'.repeat(101)])(
    'refuses clientMessageId %j outside its charset',
    (clientMessageId) => {
      // Act + Assess
      expect(CLIENT_MESSAGE_ID.test(clientMessageId)).toBe(false);
      expect(
        sendMessageSchema.safeParse({ action: 'sendMessage', text: 'hi', clientMessageId }).success,
      ).toBe(false);
    },
  );

  it('documents the edge error codes', () => {
    // Act + Assess
    expect(ERROR_CODES).toEqual(
      expect.arrayContaining(['TooDeep', 'RateLimited', 'MessageTooLong', 'InvalidJson']),
    );
  });
});
