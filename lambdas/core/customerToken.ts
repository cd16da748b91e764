/**
 * Signed customer identity: the deploying company's backend signs a short-lived HS256 JWT for its signed-in
 * customer, the chat client passes it on the WebSocket $connect (`?token=`), and SupportMax takes the
 * customer id only from a token that verifies. Pure: node:crypto only.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface CustomerIdentity {
  readonly customerId: string;
  readonly email?: string;
  readonly name?: string;
  /** Whether the customer agreed that transcripts are stored (`transcript_consent`, true when absent). */
  readonly consent: boolean;
}

export interface CustomerTokenClaims {
  /** The customer id in the company's systems. */
  readonly sub: string;
  /** Expiry, epoch seconds. Required: a token without one would be valid forever. */
  readonly exp: number;
  readonly nbf?: number;
  readonly iat?: number;
  readonly email?: string;
  readonly name?: string;
  /**
   * False: the customer did not agree to transcripts being stored (their messages are stored PII-masked
   * and erased when the conversation is resolved). @default true
   */
  readonly transcript_consent?: boolean;
}

export class InvalidCustomerTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidCustomerTokenError';
  }
}

/** Clock skew tolerated between the signing backend and us, for exp and nbf. */
export const CLOCK_LEEWAY_SECONDS = 60;
/** HS256 keys shorter than the hash output are guessable; refuse them as configuration errors. */
export const MIN_SECRET_LENGTH = 32;
const MAX_TOKEN_LENGTH = 4096;
const CUSTOMER_ID = /^[\x21-\x7e]{1,128}$/;

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

function checkSecret(secret: string): void {
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new Error(`the customer token secret must have at least ${MIN_SECRET_LENGTH} characters`);
  }
}

const signature = (signingInput: string, secret: string) =>
  createHmac('sha256', secret).update(signingInput).digest();

/** Signs claims as an HS256 JWT (for tests and the local demo; production tokens come from the company). */
export function signCustomerToken(claims: CustomerTokenClaims, secret: string): string {
  checkSecret(secret);
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${HEADER}.${payload}.${signature(`${HEADER}.${payload}`, secret).toString('base64url')}`;
}

/**
 * Verifies an HS256 JWT and returns the customer it names. Throws InvalidCustomerTokenError for any other
 * algorithm (including `none`), a bad signature, a passed `exp` or a future `nbf` (both with
 * CLOCK_LEEWAY_SECONDS of leeway), a missing or malformed `sub` and a `transcript_consent` that is not a
 * boolean. `nowMs` is epoch milliseconds.
 */
export function verifyCustomerToken(token: string, secret: string, nowMs: number): CustomerIdentity {
  checkSecret(secret);
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw invalid('malformed token');
  const parts = token.split('.');
  if (parts.length !== 3) throw invalid('malformed token');
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
  const header = decodeJson(encodedHeader);
  if (header.alg !== 'HS256') throw invalid(`unsupported algorithm ${JSON.stringify(header.alg ?? null)}`);
  if (header.crit !== undefined) throw invalid('unsupported critical header parameters');
  if (header.typ !== undefined && header.typ !== 'JWT') throw invalid('unsupported token type');
  const presented = Buffer.from(encodedSignature, 'base64url');
  const expected = signature(`${encodedHeader}.${encodedPayload}`, secret);
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
    throw invalid('bad signature');
  }
  const claims = decodeJson(encodedPayload);
  const now = nowMs / 1000;
  if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) throw invalid('exp is missing');
  if (claims.exp + CLOCK_LEEWAY_SECONDS < now) throw invalid('token expired');
  if (claims.nbf !== undefined) {
    if (typeof claims.nbf !== 'number' || !Number.isFinite(claims.nbf)) throw invalid('nbf is not a number');
    if (claims.nbf - CLOCK_LEEWAY_SECONDS > now) throw invalid('token not yet valid');
  }
  if (typeof claims.sub !== 'string' || !CUSTOMER_ID.test(claims.sub)) {
    throw invalid('sub is missing or not 1-128 printable characters');
  }
  // Refused rather than guessed: a "false" string read as consent would store what the customer refused.
  if (claims.transcript_consent !== undefined && typeof claims.transcript_consent !== 'boolean') {
    throw invalid('transcript_consent is not a boolean');
  }
  return {
    customerId: claims.sub,
    consent: claims.transcript_consent !== false,
    ...(typeof claims.email === 'string' && claims.email.length <= 254 ? { email: claims.email } : {}),
    ...(typeof claims.name === 'string' && claims.name.length <= 200 ? { name: claims.name } : {}),
  };
}

function decodeJson(part: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_-]+$/.test(part)) throw invalid('malformed token');
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw invalid('malformed token');
}

function invalid(message: string): InvalidCustomerTokenError {
  return new InvalidCustomerTokenError(message);
}
