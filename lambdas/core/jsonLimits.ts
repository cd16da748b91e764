/**
 * Edge limits for JSON from outside (WebSocket frames, REST bodies): size, nesting depth and
 * prototype-pollution keys are checked before anything reads the value. The depth scan is one linear pass
 * over the text that stops at the first level too deep, so hostile nesting costs no more than its length.
 */

export const MAX_JSON_BYTES = 64 * 1024;
export const MAX_JSON_DEPTH = 20;

/** Keys that mean something to JavaScript objects rather than to us; never accepted in input. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export type LimitedJson =
  | { readonly ok: true; readonly value: unknown }
  | {
      readonly ok: false;
      readonly code: 'MessageTooLong' | 'TooDeep' | 'InvalidJson' | 'ValidationError';
      readonly message: string;
    };

/** True when objects/arrays in `text` nest deeper than `limit` (strings are skipped, escapes honoured). */
export function jsonNestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > limit) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

/** Parses JSON within the limits; the failure says which limit, in words a client developer can act on. */
export function parseLimitedJson(
  raw: string,
  limits: { readonly maxBytes?: number; readonly maxDepth?: number } = {},
): LimitedJson {
  const maxBytes = limits.maxBytes ?? MAX_JSON_BYTES;
  const maxDepth = limits.maxDepth ?? MAX_JSON_DEPTH;
  // UTF-8 is at most 3 bytes per UTF-16 unit: skip the exact count when the text is clearly small.
  if (raw.length * 3 > maxBytes && utf8Length(raw) > maxBytes) {
    return { ok: false, code: 'MessageTooLong', message: `JSON is limited to ${maxBytes / 1024} KiB` };
  }
  if (jsonNestsDeeperThan(raw, maxDepth)) {
    return {
      ok: false,
      code: 'TooDeep',
      message: `JSON may nest objects and arrays at most ${maxDepth} levels deep`,
    };
  }
  let forbidden: string | undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw, function (this: unknown, key: string, item: unknown) {
      if (FORBIDDEN_KEYS.has(key) && this !== null && typeof this === 'object' && !Array.isArray(this)) {
        forbidden ??= key;
      }
      return item;
    });
  } catch {
    return { ok: false, code: 'InvalidJson', message: 'not valid JSON' };
  }
  if (forbidden !== undefined) {
    return { ok: false, code: 'ValidationError', message: `the key "${forbidden}" is not allowed` };
  }
  return { ok: true, value };
}

/** Bytes of `text` in UTF-8 (a lone surrogate counts as its 3-byte replacement character). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
