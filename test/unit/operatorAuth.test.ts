import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  csrfTokenMatches,
  hashPassword,
  hasRole,
  INVALID_CREDENTIALS_MESSAGE,
  OperatorAuthService,
  passwordPolicyProblem,
  verifyPassword,
} from '#core/operatorAuth';
import { InMemoryOperatorStore } from '../support/inMemoryOperatorStore';
import { FakeClock } from '../support/inMemoryStores';

/** Cheap hashes keep the suite fast; the default cost has its own test. */
const TEST_COST = { N: 2 ** 10, r: 8, p: 1 };
const PASSWORD = 'correct horse battery';
const MINUTE = 60_000;

async function fixture(options: { withAgent?: boolean } = {}) {
  const store = new InMemoryOperatorStore();
  const clock = new FakeClock();
  const auth = new OperatorAuthService({ store, clock, scryptCost: TEST_COST });
  if (options.withAgent !== false) {
    await auth.createUser({
      username: 'dana',
      roles: ['agent'],
      password: PASSWORD,
      mustChangePassword: false,
    });
  }
  return { store, clock, auth };
}

const failureOf = async (work: Promise<unknown>) => {
  try {
    await work;
  } catch (error) {
    return { code: (error as { code?: string }).code, message: (error as Error).message };
  }
  throw new Error('expected a failure');
};

describe('password hashing', () => {
  it('encodes scrypt with N=2^15, r=8, p=1 and a 16-byte salt, and verifies only the right password', async () => {
    // Act
    const encoded = await hashPassword(PASSWORD);
    const again = await hashPassword(PASSWORD);

    // Assess
    const [scheme, n, r, p, salt] = encoded.split('$');
    expect([scheme, n, r, p]).toEqual(['scrypt', '32768', '8', '1']);
    expect(Buffer.from(salt!, 'base64url')).toHaveLength(16);
    expect(again).not.toBe(encoded);
    expect(await verifyPassword(PASSWORD, encoded)).toBe(true);
    expect(await verifyPassword('correct horse battery!', encoded)).toBe(false);
  });

  it('treats malformed or implausibly costly stored hashes as a mismatch instead of throwing', async () => {
    // Prepare
    const valid = await hashPassword(PASSWORD, TEST_COST);
    const [, , r, p, salt, key] = valid.split('$');

    // Act
    const verdicts = await Promise.all(
      [
        '',
        'plain-text',
        `scrypt$3000$${r}$${p}$${salt}$${key}`,
        `scrypt$${2 ** 24}$${r}$${p}$${salt}$${key}`,
      ].map((encoded) => verifyPassword(PASSWORD, encoded)),
    );

    // Assess
    expect(verdicts).toEqual([false, false, false, false]);
  });

  it('asks for at least 12 characters', () => {
    expect(passwordPolicyProblem('elevenchars')).toMatch(/at least 12/);
    expect(passwordPolicyProblem('twelve chars')).toBeUndefined();
  });
});

describe('roles', () => {
  it('ranks admin above supervisor above agent', () => {
    expect(hasRole(['admin'], 'agent')).toBe(true);
    expect(hasRole(['admin'], 'supervisor')).toBe(true);
    expect(hasRole(['supervisor'], 'agent')).toBe(true);
    expect(hasRole(['supervisor'], 'admin')).toBe(false);
    expect(hasRole(['agent'], 'supervisor')).toBe(false);
    expect(hasRole(['root', 'Admin'], 'agent')).toBe(false);
    expect(hasRole(undefined, 'agent')).toBe(false);
  });
});

describe('OperatorAuthService', () => {
  it('signs in with a session stored only as the SHA-256 of its token', async () => {
    // Prepare
    const { auth, store } = await fixture();

    // Act
    const session = await auth.login('  Dana ', PASSWORD);

    // Assess
    expect(session).toMatchObject({ username: 'dana', roles: ['agent'], passwordChangeRequired: false });
    expect(session.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const hash = createHash('sha256').update(session.token).digest('hex');
    expect([...store.sessions.keys()]).toEqual([hash]);
    expect(JSON.stringify([...store.sessions.values()])).not.toContain(session.token);
    expect(await auth.validateSession(session.token)).toEqual({
      username: 'dana',
      roles: ['agent'],
      csrfToken: session.csrfToken,
      passwordChangeRequired: false,
    });
  });

  it('answers an unknown user and a wrong password with the same error', async () => {
    // Prepare
    const { auth } = await fixture();

    // Act
    const unknown = await failureOf(auth.login('nobody', PASSWORD));
    const wrong = await failureOf(auth.login('dana', 'not the password'));

    // Assess
    expect(unknown).toEqual({ code: 'InvalidCredentials', message: INVALID_CREDENTIALS_MESSAGE });
    expect(wrong).toEqual(unknown);
  });

  it('locks an account for 15 minutes after 5 wrong passwords, even against the right one', async () => {
    // Prepare
    const { auth, clock } = await fixture();
    for (let attempt = 0; attempt < 5; attempt++) await failureOf(auth.login('dana', 'wrong password!'));

    // Act
    const whileLocked = await failureOf(auth.login('dana', PASSWORD));
    clock.advance(14 * MINUTE);
    const stillLocked = await failureOf(auth.login('dana', PASSWORD));
    clock.advance(MINUTE + 1);
    const after = await auth.login('dana', PASSWORD);

    // Assess
    expect(whileLocked).toEqual({ code: 'InvalidCredentials', message: INVALID_CREDENTIALS_MESSAGE });
    expect(stillLocked.code).toBe('InvalidCredentials');
    expect(after.username).toBe('dana');
  });

  it('forgets earlier failures after a successful sign-in', async () => {
    // Prepare
    const { auth, store } = await fixture();
    for (let attempt = 0; attempt < 4; attempt++) await failureOf(auth.login('dana', 'wrong password!'));

    // Act
    await auth.login('dana', PASSWORD);
    await failureOf(auth.login('dana', 'wrong password!'));

    // Assess
    expect(store.users.get('dana')).toMatchObject({ failedLogins: 1 });
    expect((await auth.login('dana', PASSWORD)).username).toBe('dana');
  });

  it('ends a session after 30 idle minutes, and after 8 hours however active', async () => {
    // Prepare
    const { auth, clock } = await fixture();
    const idle = await auth.login('dana', PASSWORD);
    const busy = await auth.login('dana', PASSWORD);

    // Act
    const checks: boolean[] = [];
    for (let step = 0; step < 16; step++) {
      clock.advance(29 * MINUTE);
      checks.push((await auth.validateSession(busy.token)) !== undefined);
    }

    // Assess
    expect(await auth.validateSession(idle.token)).toBeUndefined();
    // 16 × 29 min = 7 h 44 min: alive; the next step passes 8 h.
    expect(checks.every(Boolean)).toBe(true);
    clock.advance(29 * MINUTE);
    expect(await auth.validateSession(busy.token)).toBeUndefined();
  });

  it('ends the session on logout and ignores unknown or malformed tokens', async () => {
    // Prepare
    const { auth } = await fixture();
    const session = await auth.login('dana', PASSWORD);

    // Act
    await auth.logout(session.token);

    // Assess
    expect(await auth.validateSession(session.token)).toBeUndefined();
    expect(await auth.validateSession('x'.repeat(43))).toBeUndefined();
    expect(await auth.validateSession('not a token')).toBeUndefined();
    expect(await auth.validateSession(undefined)).toBeUndefined();
  });

  it('changes the password: every earlier session ends, the new one works, the old password does not', async () => {
    // Prepare
    const { auth } = await fixture();
    const here = await auth.login('dana', PASSWORD);
    const elsewhere = await auth.login('dana', PASSWORD);

    // Act
    const renewed = await auth.changePassword(here.token, PASSWORD, 'a much better passphrase');

    // Assess
    expect(await auth.validateSession(here.token)).toBeUndefined();
    expect(await auth.validateSession(elsewhere.token)).toBeUndefined();
    expect(await auth.validateSession(renewed.token)).toMatchObject({ username: 'dana' });
    expect((await failureOf(auth.login('dana', PASSWORD))).code).toBe('InvalidCredentials');
    expect((await auth.login('dana', 'a much better passphrase')).username).toBe('dana');
  });

  it('refuses a password change with a wrong current password or a weak new one', async () => {
    // Prepare
    const { auth } = await fixture();
    const session = await auth.login('dana', PASSWORD);

    // Act
    const wrong = await failureOf(
      auth.changePassword(session.token, 'not the password', 'a much better one'),
    );
    const weak = await failureOf(auth.changePassword(session.token, PASSWORD, 'short'));
    const same = await failureOf(auth.changePassword(session.token, PASSWORD, PASSWORD));
    const signedOut = await failureOf(auth.changePassword(undefined, PASSWORD, 'a much better one'));

    // Assess
    expect(wrong.code).toBe('InvalidCredentials');
    expect(weak).toEqual({ code: 'PasswordPolicy', message: expect.stringMatching(/at least 12/) });
    expect(same.code).toBe('PasswordPolicy');
    expect(signedOut.code).toBe('InvalidSession');
  });

  it('creates the admin once with a one-time password that must be changed', async () => {
    // Prepare
    const { auth } = await fixture({ withAgent: false });

    // Act
    const first = await auth.ensureAdmin();
    const second = await auth.ensureAdmin();
    if (!first.created) throw new Error('expected the admin to be created');
    const session = await auth.login('admin', first.password);
    const changed = await auth.changePassword(session.token, first.password, 'the admin passphrase');

    // Assess
    expect(first).toMatchObject({ created: true, oneTime: true });
    expect(first.password.length).toBeGreaterThanOrEqual(12);
    expect(second).toEqual({ created: false });
    expect(session).toMatchObject({ username: 'admin', roles: ['admin'], passwordChangeRequired: true });
    expect(changed.passwordChangeRequired).toBe(false);
    expect(await auth.validateSession(changed.token)).toMatchObject({ passwordChangeRequired: false });
  });

  it('creates the admin with a bootstrap password without forcing a change, and rejects a weak one', async () => {
    // Prepare
    const { auth } = await fixture({ withAgent: false });

    // Act
    const weak = await failureOf(auth.ensureAdmin('too short'));
    const created = await auth.ensureAdmin('bootstrap passphrase');
    const session = await auth.login('admin', 'bootstrap passphrase');

    // Assess
    expect(weak.code).toBe('PasswordPolicy');
    expect(created).toEqual({ created: true, password: 'bootstrap passphrase', oneTime: false });
    expect(session.passwordChangeRequired).toBe(false);
  });

  it('creates operators with valid names and roles only, once, and lists them without password hashes', async () => {
    // Prepare
    const { auth } = await fixture();

    // Act
    const created = await auth.createUser({ username: 'Sam', roles: ['supervisor'], password: PASSWORD });
    const duplicate = await failureOf(
      auth.createUser({ username: 'sam', roles: ['agent'], password: PASSWORD }),
    );
    const badRole = await failureOf(
      auth.createUser({ username: 'kim', roles: ['root'], password: PASSWORD }),
    );
    const noRole = await failureOf(auth.createUser({ username: 'kim', roles: [], password: PASSWORD }));
    const badName = await failureOf(
      auth.createUser({ username: 'a b', roles: ['agent'], password: PASSWORD }),
    );
    const weak = await failureOf(auth.createUser({ username: 'kim', roles: ['agent'], password: 'short' }));
    const listed = await auth.listUsers();

    // Assess
    expect(created).toMatchObject({ username: 'sam', roles: ['supervisor'], mustChangePassword: true });
    expect(duplicate.code).toBe('OperatorExists');
    expect([badRole.code, noRole.code, badName.code]).toEqual([
      'InvalidOperator',
      'InvalidOperator',
      'InvalidOperator',
    ]);
    expect(weak.code).toBe('PasswordPolicy');
    expect(listed.map((o) => o.username)).toEqual(['dana', 'sam']);
    expect(JSON.stringify(listed)).not.toContain('scrypt');
  });

  it('drops sessions issued for an earlier password generation', async () => {
    // Prepare
    const { auth, store } = await fixture();
    const session = await auth.login('dana', PASSWORD);

    // Act
    await store.updateUser('dana', { sessionVersion: 7 });

    // Assess
    expect(await auth.validateSession(session.token)).toBeUndefined();
  });
});

describe('csrfTokenMatches', () => {
  it('accepts only the exact token', () => {
    expect(csrfTokenMatches('abc123', 'abc123')).toBe(true);
    expect(csrfTokenMatches('abc123', 'abc124')).toBe(false);
    expect(csrfTokenMatches('abc123', 'abc1234')).toBe(false);
    expect(csrfTokenMatches('abc123', undefined)).toBe(false);
    expect(csrfTokenMatches('abc123', '')).toBe(false);
  });
});
