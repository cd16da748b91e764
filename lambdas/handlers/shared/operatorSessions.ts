/**
 * Operator sessions of the local face's built-in sign-in: the OperatorAuthService singleton over the
 * `operators` / `operatorSessions` tables, and the session cookie. On AWS, Cognito signs operators in and
 * none of this runs.
 */
import { documentClient } from '#adapters/dynamoDocumentClient';
import { DynamoOperatorStore } from '#adapters/dynamoOperatorStore';
import { TABLES } from '#adapters/tableDefinitions';
import { OperatorAuthService } from '#core/operatorAuth';
import { systemClock } from '#core/ports';
import { requireEnv } from './env';

export const SESSION_COOKIE = 'supportmax_session';
export const CSRF_HEADER = 'x-csrf-token';

let service: OperatorAuthService | undefined;

export function operatorAuth(): OperatorAuthService {
  service ??= new OperatorAuthService({
    store: new DynamoOperatorStore(documentClient(), {
      operators: requireEnv(TABLES.operators.envVar),
      sessions: requireEnv(TABLES.operatorSessions.envVar),
    }),
    clock: systemClock,
  });
  return service;
}

type Headers = Readonly<Record<string, string | undefined>> | null | undefined;

/** A header by case-insensitive name (API Gateway keeps the client's spelling). */
export function headerOf(headers: Headers, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers ?? {})) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/** The session token from the Cookie header, if any. */
export function sessionTokenOf(headers: Headers): string | undefined {
  for (const pair of (headerOf(headers, 'cookie') ?? '').split(';')) {
    const at = pair.indexOf('=');
    if (at !== -1 && pair.slice(0, at).trim() === SESSION_COOKIE)
      return pair.slice(at + 1).trim() || undefined;
  }
  return undefined;
}

/**
 * A session token sent as `Authorization: Bearer <token>` by API clients and scripts (the value of the
 * session cookie). Browsers never attach it on their own, so bearer requests need no CSRF token.
 */
export function bearerTokenOf(headers: Headers): string | undefined {
  const match = /^Bearer\s+([A-Za-z0-9_-]{16,200})\s*$/i.exec(headerOf(headers, 'authorization') ?? '');
  return match?.[1];
}

/** `Authorization: Basic base64(username:password)`, for API clients and scripts. */
export function basicCredentialsOf(headers: Headers): { username: string; password: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]{4,400})\s*$/i.exec(headerOf(headers, 'authorization') ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 ? { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) } : undefined;
}

/** True when the client reached us over TLS (API Gateway and TLS proxies set X-Forwarded-Proto). */
export function cameOverHttps(headers: Headers): boolean {
  return headerOf(headers, 'x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase() === 'https';
}

/** Set-Cookie for a session: invisible to scripts, never sent cross-site, Secure over https. */
export function sessionCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${token}`,
    'HttpOnly',
    'SameSite=Strict',
    'Path=/',
    `Max-Age=${maxAgeSeconds}`,
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

export function clearedSessionCookie(secure: boolean): string {
  return sessionCookie('', 0, secure);
}
