import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signCustomerToken, verifyCustomerToken } from '#core/customerToken';

const SECRET = 'a-test-secret-of-at-least-32-characters';
const NOW = Date.parse('2026-03-02T09:00:00.000Z');
const nowSeconds = NOW / 1000;
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A token with any header, signed with HS256 over whatever the header claims. */
function forged(header: object, claims: object, secret = SECRET): string {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

const failure = (work: () => unknown) => {
  try {
    work();
  } catch (error) {
    return { name: (error as Error).name, message: (error as Error).message };
  }
  throw new Error('expected a failure');
};

describe('customer tokens', () => {
  it('returns the customer of a valid token with its optional email and name', () => {
    // Prepare
    const token = signCustomerToken(
      { sub: 'cust-42', exp: nowSeconds + 600, email: 'ana@example.com', name: 'Ana' },
      SECRET,
    );

    // Act
    const identity = verifyCustomerToken(token, SECRET, NOW);

    // Assess
    expect(identity).toEqual({
      customerId: 'cust-42',
      email: 'ana@example.com',
      name: 'Ana',
      consent: true,
    });
  });

  it('reads transcript_consent: false as no consent, an absent claim as consent, and refuses a non-boolean', () => {
    // Prepare
    const token = (claims: object) =>
      forged({ alg: 'HS256', typ: 'JWT' }, { sub: 'cust-42', exp: nowSeconds + 600, ...claims });

    // Act
    const refused = verifyCustomerToken(token({ transcript_consent: false }), SECRET, NOW);
    const given = verifyCustomerToken(token({ transcript_consent: true }), SECRET, NOW);
    const absent = verifyCustomerToken(token({}), SECRET, NOW);
    const text = failure(() => verifyCustomerToken(token({ transcript_consent: 'false' }), SECRET, NOW));

    // Assess
    expect([refused.consent, given.consent, absent.consent]).toEqual([false, true, true]);
    expect(text).toEqual({
      name: 'InvalidCustomerTokenError',
      message: 'transcript_consent is not a boolean',
    });
  });

  it('rejects alg none and any algorithm but HS256', () => {
    // Prepare
    const claims = { sub: 'cust-42', exp: nowSeconds + 600 };
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;

    // Act
    const outcomes = [
      failure(() => verifyCustomerToken(none, SECRET, NOW)),
      failure(() => verifyCustomerToken(forged({ alg: 'HS512', typ: 'JWT' }, claims), SECRET, NOW)),
      failure(() => verifyCustomerToken(forged({ alg: 'RS256' }, claims), SECRET, NOW)),
      failure(() => verifyCustomerToken(forged({ typ: 'JWT' }, claims), SECRET, NOW)),
    ];

    // Assess
    for (const outcome of outcomes) {
      expect(outcome).toEqual({
        name: 'InvalidCustomerTokenError',
        message: expect.stringMatching(/algorithm/),
      });
    }
  });

  it('rejects a bad signature: another secret, or a payload changed after signing', () => {
    // Prepare
    const token = signCustomerToken({ sub: 'cust-42', exp: nowSeconds + 600 }, SECRET);
    const [header, , signature] = token.split('.');
    const tampered = `${header}.${b64({ sub: 'cust-1', exp: nowSeconds + 600 })}.${signature}`;
    const otherSecret = signCustomerToken({ sub: 'cust-42', exp: nowSeconds + 600 }, `${SECRET}-other`);

    // Act
    const outcomes = [tampered, otherSecret, `${token.slice(0, -2)}xx`].map((t) =>
      failure(() => verifyCustomerToken(t, SECRET, NOW)),
    );

    // Assess
    for (const outcome of outcomes) expect(outcome.message).toBe('bad signature');
  });

  it('accepts exp up to 60 s in the past and rejects it after that, or when missing', () => {
    // Prepare
    const at = (exp: number) => signCustomerToken({ sub: 'cust-42', exp }, SECRET);

    // Act
    const withinLeeway = verifyCustomerToken(at(nowSeconds - 59), SECRET, NOW);
    const expired = failure(() => verifyCustomerToken(at(nowSeconds - 61), SECRET, NOW));
    const missing = failure(() =>
      verifyCustomerToken(forged({ alg: 'HS256' }, { sub: 'cust-42' }), SECRET, NOW),
    );

    // Assess
    expect(withinLeeway.customerId).toBe('cust-42');
    expect(expired.message).toBe('token expired');
    expect(missing.message).toMatch(/exp/);
  });

  it('rejects a token whose nbf is in the future (beyond the leeway)', () => {
    // Prepare
    const token = signCustomerToken({ sub: 'cust-42', exp: nowSeconds + 600, nbf: nowSeconds + 120 }, SECRET);

    // Act
    const early = failure(() => verifyCustomerToken(token, SECRET, NOW));
    const later = verifyCustomerToken(token, SECRET, NOW + 120_000);

    // Assess
    expect(early.message).toBe('token not yet valid');
    expect(later.customerId).toBe('cust-42');
  });

  it('rejects a token without a usable sub', () => {
    // Prepare
    const tokens = [
      { exp: nowSeconds + 600 },
      { sub: '', exp: nowSeconds + 600 },
      { sub: 42, exp: nowSeconds + 600 },
    ].map((claims) => forged({ alg: 'HS256', typ: 'JWT' }, claims));

    // Act
    const outcomes = tokens.map((token) => failure(() => verifyCustomerToken(token, SECRET, NOW)));

    // Assess
    for (const outcome of outcomes) expect(outcome.message).toMatch(/sub/);
  });

  it('rejects malformed tokens and refuses a secret too short to be safe', () => {
    // Act
    const malformed = ['', 'a.b', 'a.b.c.d', '!!.??.**', `${b64({ alg: 'HS256' })}.bm90IGpzb24.sig`].map(
      (t) => failure(() => verifyCustomerToken(t, SECRET, NOW)),
    );
    const shortSecret = failure(() => verifyCustomerToken('a.b.c', 'short', NOW));

    // Assess
    for (const outcome of malformed) expect(outcome.name).toBe('InvalidCustomerTokenError');
    expect(shortSecret).toEqual({ name: 'Error', message: expect.stringMatching(/at least 32/) });
  });
});
