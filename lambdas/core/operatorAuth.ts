/**
 * Operator sign-in for the local face (on AWS, Cognito holds the operators): roles with a hierarchy, scrypt
 * password hashes, lockout after repeated failures, and cookie sessions kept only as SHA-256 hashes of their
 * tokens, so a copy of the sessions table signs nobody in. Pure: node:crypto and the OperatorStore port.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { Clock } from './ports';

export const OPERATOR_ROLES = ['agent', 'supervisor', 'admin'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

const RANK: Record<OperatorRole, number> = { agent: 1, supervisor: 2, admin: 3 };

export function isOperatorRole(value: unknown): value is OperatorRole {
  return typeof value === 'string' && Object.hasOwn(RANK, value);
}

/** True when one of `roles` is `required` or ranks above it (admin ⊇ supervisor ⊇ agent). */
export function hasRole(roles: readonly string[] | undefined, required: OperatorRole): boolean {
  return (roles ?? []).some((role) => isOperatorRole(role) && RANK[role] >= RANK[required]);
}

// --- Passwords -------------------------------------------------------------------------------------

export const MIN_PASSWORD_LENGTH = 12;
const MAX_PASSWORD_LENGTH = 256;

/** Why a new password is not acceptable, or undefined when it is. */
export function passwordPolicyProblem(password: string): string | undefined {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH)
    return `the password must have at least ${MIN_PASSWORD_LENGTH} characters`;
  if (length > MAX_PASSWORD_LENGTH) return `the password must have at most ${MAX_PASSWORD_LENGTH} characters`;
  if (password.trim() !== password) return 'the password must not start or end with spaces';
  return undefined;
}

export interface ScryptCost {
  /** CPU/memory cost, a power of two. */
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** ~32 MiB and tens of milliseconds per hash: costly to guess offline, cheap enough per sign-in. */
export const DEFAULT_SCRYPT_COST: ScryptCost = { N: 2 ** 15, r: 8, p: 1 };
const SALT_BYTES = 16;
const KEY_BYTES = 32;

function deriveKey(password: string, salt: Buffer, { N, r, p }: ScryptCost): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, { N, r, p, maxmem: 256 * N * r }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** `scrypt$N$r$p$<salt>$<key>` (base64url): the parameters travel with the hash, so costs can rise later. */
export async function hashPassword(
  password: string,
  cost: ScryptCost = DEFAULT_SCRYPT_COST,
): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await deriveKey(password, salt, cost);
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Constant-time comparison; false (never a throw) for a malformed or implausibly costly stored hash. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key, ...rest] = encoded.split('$');
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  const plausible =
    scheme === 'scrypt' &&
    rest.length === 0 &&
    Number.isInteger(Math.log2(cost.N)) &&
    cost.N >= 2 ** 10 &&
    cost.N <= 2 ** 20 &&
    Number.isInteger(cost.r) &&
    cost.r >= 1 &&
    cost.r <= 32 &&
    Number.isInteger(cost.p) &&
    cost.p >= 1 &&
    cost.p <= 16;
  if (!plausible || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64url');
  if (expected.length !== KEY_BYTES) return false;
  const actual = await deriveKey(password, Buffer.from(salt, 'base64url'), cost);
  return timingSafeEqual(actual, expected);
}

// --- Records and port ------------------------------------------------------------------------------

export interface OperatorUser {
  /** Lower case; the sign-in name. */
  readonly username: string;
  readonly roles: readonly OperatorRole[];
  readonly passwordHash: string;
  /** While set, a session may only change the password (one-time and admin-set passwords). */
  readonly mustChangePassword: boolean;
  /** Consecutive wrong passwords since the last success or lockout. */
  readonly failedLogins: number;
  /** Epoch ms until which sign-in is refused; 0 or absent when not locked. */
  readonly lockedUntil?: number;
  readonly createdAt: string;
  /** Raised when the password changes: sessions issued before then stop working. */
  readonly sessionVersion: number;
}

export interface OperatorSession {
  /** SHA-256 (hex) of the session token; the token itself is never stored. */
  readonly sessionHash: string;
  readonly username: string;
  readonly roles: readonly OperatorRole[];
  readonly csrfToken: string;
  readonly sessionVersion: number;
  /** Epoch ms. */
  readonly createdAt: number;
  /** Epoch ms of the last request, for the idle timeout (refreshed at most once a minute). */
  readonly lastSeenAt: number;
  /** Epoch seconds of the absolute expiry (the table's TTL attribute). */
  readonly expiresAt: number;
}

export interface OperatorStore {
  getUser(username: string): Promise<OperatorUser | undefined>;
  /** Creates the user unless the username is taken; false when it is. */
  createUser(user: OperatorUser): Promise<boolean>;
  updateUser(username: string, changes: Partial<Omit<OperatorUser, 'username' | 'createdAt'>>): Promise<void>;
  listUsers(): Promise<OperatorUser[]>;
  putSession(session: OperatorSession): Promise<void>;
  getSession(sessionHash: string): Promise<OperatorSession | undefined>;
  touchSession(sessionHash: string, lastSeenAt: number): Promise<void>;
  deleteSession(sessionHash: string): Promise<void>;
}

// --- Service ---------------------------------------------------------------------------------------

export type OperatorAuthErrorCode =
  | 'InvalidCredentials'
  | 'InvalidSession'
  | 'PasswordPolicy'
  | 'InvalidOperator'
  | 'OperatorExists';

export class OperatorAuthError extends Error {
  constructor(
    readonly code: OperatorAuthErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'OperatorAuthError';
  }
}

/** One message for an unknown user, a wrong password and a locked account: sign-in reveals no usernames. */
export const INVALID_CREDENTIALS_MESSAGE = 'invalid username or password';

export interface SignedIn {
  /** The raw session token: goes into the cookie and nowhere else. */
  readonly token: string;
  readonly csrfToken: string;
  readonly username: string;
  readonly roles: readonly OperatorRole[];
  readonly passwordChangeRequired: boolean;
  /** Cookie lifetime: the session's absolute lifetime. */
  readonly maxAgeSeconds: number;
}

export interface ValidSession {
  readonly username: string;
  readonly roles: readonly OperatorRole[];
  readonly csrfToken: string;
  readonly passwordChangeRequired: boolean;
}

export interface OperatorSummary {
  readonly username: string;
  readonly roles: readonly OperatorRole[];
  readonly mustChangePassword: boolean;
  readonly locked: boolean;
  readonly createdAt: string;
}

export interface NewOperator {
  readonly username: string;
  readonly roles: readonly string[];
  readonly password: string;
  /** @default true: the admin knows the initial password, so the operator picks a new one at first sign-in */
  readonly mustChangePassword?: boolean;
}

export interface OperatorAuthOptions {
  readonly store: OperatorStore;
  readonly clock: Clock;
  /** Sign-out after this long without a request. @default 1800 (30 min) */
  readonly idleTimeoutSeconds?: number;
  /** Sign-out this long after sign-in, however active. @default 28800 (8 h) */
  readonly absoluteTimeoutSeconds?: number;
  /** @default 5 */
  readonly maxFailedLogins?: number;
  /** @default 900 (15 min) */
  readonly lockoutSeconds?: number;
  /** @default DEFAULT_SCRYPT_COST */
  readonly scryptCost?: ScryptCost;
}

export const ADMIN_USERNAME = 'admin';
const USERNAME = /^[a-z0-9][a-z0-9._@-]{1,63}$/;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const TOUCH_INTERVAL_MS = 60_000;

const newToken = () => randomBytes(32).toString('base64url');
const sessionHashOf = (token: string) => createHash('sha256').update(token).digest('hex');

/** Compares a presented CSRF token with the session's in constant time. */
export function csrfTokenMatches(expected: string, presented: string | undefined): boolean {
  if (!presented) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class OperatorAuthService {
  private readonly store: OperatorStore;
  private readonly clock: Clock;
  private readonly idleMs: number;
  private readonly absoluteSeconds: number;
  private readonly maxFailedLogins: number;
  private readonly lockoutMs: number;
  private readonly cost: ScryptCost;
  private dummyHash: Promise<string> | undefined;

  constructor(options: OperatorAuthOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.idleMs = (options.idleTimeoutSeconds ?? 30 * 60) * 1000;
    this.absoluteSeconds = options.absoluteTimeoutSeconds ?? 8 * 60 * 60;
    this.maxFailedLogins = options.maxFailedLogins ?? 5;
    this.lockoutMs = (options.lockoutSeconds ?? 15 * 60) * 1000;
    this.cost = options.scryptCost ?? DEFAULT_SCRYPT_COST;
  }

  async login(username: string, password: string): Promise<SignedIn> {
    return this.startSession(await this.verifyCredentials(username, password));
  }

  /**
   * Checks a username and password without starting a session (HTTP Basic for API clients and scripts):
   * the same lockout and the same answer for unknown users and wrong passwords as a sign-in.
   */
  async authenticate(username: string, password: string): Promise<Omit<ValidSession, 'csrfToken'>> {
    const user = await this.verifyCredentials(username, password);
    return { username: user.username, roles: user.roles, passwordChangeRequired: user.mustChangePassword };
  }

  private async verifyCredentials(username: string, password: string) {
    const user = await this.store.getUser(normalizeUsername(username));
    if (!user) {
      // As slow as a real check, so timing does not tell which usernames exist.
      this.dummyHash ??= hashPassword(newToken(), this.cost);
      await verifyPassword(password, await this.dummyHash);
      throw invalidCredentials();
    }
    const locked = (user.lockedUntil ?? 0) > this.clock.now();
    const matches = await verifyPassword(password, user.passwordHash);
    if (locked) throw invalidCredentials();
    if (!matches) {
      await this.recordFailure(user);
      throw invalidCredentials();
    }
    if (user.failedLogins > 0 || user.lockedUntil) {
      await this.store.updateUser(user.username, { failedLogins: 0, lockedUntil: 0 });
    }
    return user;
  }

  async logout(token: string | undefined): Promise<void> {
    if (token && TOKEN.test(token)) await this.store.deleteSession(sessionHashOf(token));
  }

  /** The session behind a cookie token, or undefined when it is unknown, expired, idle or superseded. */
  async validateSession(token: string | undefined): Promise<ValidSession | undefined> {
    const found = await this.findSession(token);
    if (!found) return undefined;
    const { session, user } = found;
    return {
      username: user.username,
      roles: user.roles,
      csrfToken: session.csrfToken,
      passwordChangeRequired: user.mustChangePassword,
    };
  }

  /**
   * Replaces the password of the session's operator. Every earlier session ends; the caller gets a fresh
   * one. A wrong current password counts towards the lockout like a failed sign-in.
   */
  async changePassword(
    token: string | undefined,
    currentPassword: string,
    newPassword: string,
  ): Promise<SignedIn> {
    const found = await this.findSession(token);
    if (!found) throw new OperatorAuthError('InvalidSession', 'the session has expired; sign in again');
    const { user, sessionHash } = found;
    const locked = (user.lockedUntil ?? 0) > this.clock.now();
    const matches = await verifyPassword(currentPassword, user.passwordHash);
    if (locked || !matches) {
      if (!locked) await this.recordFailure(user);
      throw new OperatorAuthError('InvalidCredentials', 'the current password is wrong');
    }
    const problem = passwordPolicyProblem(newPassword);
    if (problem) throw new OperatorAuthError('PasswordPolicy', problem);
    if (newPassword === currentPassword) {
      throw new OperatorAuthError('PasswordPolicy', 'the new password must differ from the current one');
    }
    const updated: OperatorUser = {
      ...user,
      passwordHash: await hashPassword(newPassword, this.cost),
      mustChangePassword: false,
      failedLogins: 0,
      lockedUntil: 0,
      sessionVersion: user.sessionVersion + 1,
    };
    await this.store.updateUser(user.username, {
      passwordHash: updated.passwordHash,
      mustChangePassword: false,
      failedLogins: 0,
      lockedUntil: 0,
      sessionVersion: updated.sessionVersion,
    });
    await this.store.deleteSession(sessionHash);
    return this.startSession(updated);
  }

  async createUser(operator: NewOperator): Promise<OperatorSummary> {
    const username = normalizeUsername(operator.username);
    if (!USERNAME.test(username)) {
      throw new OperatorAuthError(
        'InvalidOperator',
        'username: 2-64 characters of a-z 0-9 . _ @ -, starting with a letter or digit',
      );
    }
    const roles = [...new Set(operator.roles)];
    if (roles.length === 0 || !roles.every(isOperatorRole)) {
      throw new OperatorAuthError('InvalidOperator', `roles: one or more of ${OPERATOR_ROLES.join(', ')}`);
    }
    const problem = passwordPolicyProblem(operator.password);
    if (problem) throw new OperatorAuthError('PasswordPolicy', problem);
    const user: OperatorUser = {
      username,
      roles: OPERATOR_ROLES.filter((role) => roles.includes(role)),
      passwordHash: await hashPassword(operator.password, this.cost),
      mustChangePassword: operator.mustChangePassword ?? true,
      failedLogins: 0,
      createdAt: new Date(this.clock.now()).toISOString(),
      sessionVersion: 1,
    };
    if (!(await this.store.createUser(user))) {
      throw new OperatorAuthError('OperatorExists', `operator ${username} already exists`);
    }
    return this.summary(user);
  }

  async listUsers(): Promise<OperatorSummary[]> {
    const users = await this.store.listUsers();
    return users.map((user) => this.summary(user)).sort((a, b) => a.username.localeCompare(b.username));
  }

  /**
   * Creates the `admin` operator on first start. Without a bootstrap password it gets a random one-time
   * password (returned once, to be shown once) that must be changed at first sign-in. Later starts leave
   * the admin alone and return `created: false`.
   */
  async ensureAdmin(
    bootstrapPassword?: string,
  ): Promise<
    | { readonly created: false }
    | { readonly created: true; readonly password: string; readonly oneTime: boolean }
  > {
    if (await this.store.getUser(ADMIN_USERNAME)) return { created: false };
    if (bootstrapPassword !== undefined) {
      const problem = passwordPolicyProblem(bootstrapPassword);
      if (problem) throw new OperatorAuthError('PasswordPolicy', `bootstrap password: ${problem}`);
    }
    const password = bootstrapPassword ?? randomBytes(18).toString('base64url');
    const created = await this.store.createUser({
      username: ADMIN_USERNAME,
      roles: ['admin'],
      passwordHash: await hashPassword(password, this.cost),
      mustChangePassword: bootstrapPassword === undefined,
      failedLogins: 0,
      createdAt: new Date(this.clock.now()).toISOString(),
      sessionVersion: 1,
    });
    return created
      ? { created: true, password, oneTime: bootstrapPassword === undefined }
      : { created: false };
  }

  private async findSession(
    token: string | undefined,
  ): Promise<{ session: OperatorSession; user: OperatorUser; sessionHash: string } | undefined> {
    if (!token || !TOKEN.test(token)) return undefined;
    const sessionHash = sessionHashOf(token);
    const session = await this.store.getSession(sessionHash);
    if (!session) return undefined;
    const now = this.clock.now();
    if (session.expiresAt * 1000 <= now || session.lastSeenAt + this.idleMs <= now) {
      await this.store.deleteSession(sessionHash);
      return undefined;
    }
    const user = await this.store.getUser(session.username);
    if (!user || user.sessionVersion !== session.sessionVersion) {
      await this.store.deleteSession(sessionHash);
      return undefined;
    }
    if (now - session.lastSeenAt >= TOUCH_INTERVAL_MS) await this.store.touchSession(sessionHash, now);
    return { session, user, sessionHash };
  }

  private async startSession(user: OperatorUser): Promise<SignedIn> {
    const token = newToken();
    const csrfToken = newToken();
    const now = this.clock.now();
    await this.store.putSession({
      sessionHash: sessionHashOf(token),
      username: user.username,
      roles: user.roles,
      csrfToken,
      sessionVersion: user.sessionVersion,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: Math.floor(now / 1000) + this.absoluteSeconds,
    });
    return {
      token,
      csrfToken,
      username: user.username,
      roles: user.roles,
      passwordChangeRequired: user.mustChangePassword,
      maxAgeSeconds: this.absoluteSeconds,
    };
  }

  private async recordFailure(user: OperatorUser): Promise<void> {
    const failures = user.failedLogins + 1;
    await this.store.updateUser(
      user.username,
      failures >= this.maxFailedLogins
        ? { failedLogins: 0, lockedUntil: this.clock.now() + this.lockoutMs }
        : { failedLogins: failures },
    );
  }

  private summary(user: OperatorUser): OperatorSummary {
    return {
      username: user.username,
      roles: user.roles,
      mustChangePassword: user.mustChangePassword,
      locked: (user.lockedUntil ?? 0) > this.clock.now(),
      createdAt: user.createdAt,
    };
  }
}

function normalizeUsername(username: string): string {
  return username.trim().toLowerCase();
}

function invalidCredentials(): OperatorAuthError {
  return new OperatorAuthError('InvalidCredentials', INVALID_CREDENTIALS_MESSAGE);
}
