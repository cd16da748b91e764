import { describe, expect, it } from 'vitest';
import { jsonNestsDeeperThan, MAX_JSON_BYTES, parseLimitedJson, utf8Length } from '#core/jsonLimits';

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('parseLimitedJson', () => {
  it('parses JSON within the limits', () => {
    // Act
    const parsed = parseLimitedJson('{"action":"sendMessage","text":"hi","n":[1,[2,[3]]]}');

    // Assess
    expect(parsed).toEqual({ ok: true, value: { action: 'sendMessage', text: 'hi', n: [1, [2, [3]]] } });
  });

  it('accepts 20 levels of nesting and refuses 21 with TooDeep', () => {
    // Act
    const twenty = parseLimitedJson(nested(20));
    const twentyOne = parseLimitedJson(nested(21));

    // Assess
    expect(twenty.ok).toBe(true);
    expect(twentyOne).toMatchObject({
      ok: false,
      code: 'TooDeep',
      message: expect.stringMatching(/20 levels/),
    });
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    // Prepare
    const text = JSON.stringify({ text: `${'['.repeat(100)} "quoted \\" ${'{'.repeat(100)}` });

    // Act
    const parsed = parseLimitedJson(text);

    // Assess
    expect(parsed.ok).toBe(true);
  });

  it('finds deep nesting in unterminated input without parsing it', () => {
    // Act + Assess
    expect(jsonNestsDeeperThan('{"a":'.repeat(1_000_000), 20)).toBe(true);
    expect(parseLimitedJson('['.repeat(30_000))).toMatchObject({ ok: false, code: 'TooDeep' });
  });

  it('refuses more than 64 KiB of UTF-8 with MessageTooLong, counting multi-byte characters', () => {
    // Prepare
    const ascii = JSON.stringify({ text: 'x'.repeat(MAX_JSON_BYTES) });
    const euros = JSON.stringify({ text: '€'.repeat(22_000) }); // 22,000 characters, 66,000 bytes

    // Act + Assess
    expect(parseLimitedJson(ascii)).toMatchObject({ ok: false, code: 'MessageTooLong' });
    expect(parseLimitedJson(euros)).toMatchObject({ ok: false, code: 'MessageTooLong' });
    expect(parseLimitedJson(JSON.stringify({ text: '€'.repeat(21_000) })).ok).toBe(true);
  });

  it.each(['{"__proto__":{"isAdmin":true}}', '{"a":{"constructor":{"prototype":{}}}}', '[{"prototype":1}]'])(
    'refuses the prototype key in %s',
    (text) => {
      // Act
      const parsed = parseLimitedJson(text);

      // Assess
      expect(parsed).toMatchObject({ ok: false, code: 'ValidationError' });
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    },
  );

  it('allows those words as values', () => {
    // Act + Assess
    expect(parseLimitedJson('{"text":"__proto__ constructor prototype"}').ok).toBe(true);
  });

  it.each(['{', '', 'NaN', "{'a':1}", '{"a":1,}', '\uFEFF{}'])('reports %j as InvalidJson', (text) => {
    // Act + Assess
    expect(parseLimitedJson(text)).toMatchObject({ ok: false, code: 'InvalidJson' });
  });
});

describe('utf8Length', () => {
  it.each([
    ['', 0],
    ['abc', 3],
    ['é', 2],
    ['€', 3],
    ['😀', 4],
    ['\uD800', 3],
    ['a\uDC00b', 5],
  ])('counts %j as %i bytes, like Buffer.byteLength', (text, bytes) => {
    // Act + Assess
    expect(utf8Length(text)).toBe(bytes);
    expect(utf8Length(text)).toBe(Buffer.byteLength(text));
  });
});
