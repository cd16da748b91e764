/**
 * PII masking applied to every text before it reaches a model provider or a log. Pure: imports nothing.
 *
 * Detection is a handful of linear scans (no regex with nested unbounded quantifiers), so adversarial input
 * cannot trigger catastrophic backtracking. Digits are grouped once and classified by shape and checksum
 * (Luhn for cards, mod-97 for IBANs), with surrounding context used to keep ids, dates, versions and
 * amounts unmasked.
 */

export type PiiKind = 'email' | 'phone' | 'card' | 'iban' | 'address' | 'ssn' | 'ip';

/** One detected piece of PII; offsets are in the original text, end exclusive. */
export interface PiiFinding {
  readonly kind: PiiKind;
  readonly start: number;
  readonly end: number;
}

export interface MaskedText {
  readonly text: string;
  readonly found: PiiFinding[];
}

export const PII_PLACEHOLDERS: Record<PiiKind, string> = {
  email: '[EMAIL]',
  phone: '[PHONE]',
  card: '[CARD]',
  iban: '[IBAN]',
  address: '[ADDRESS]',
  ssn: '[SSN]',
  ip: '[IP]',
};

/** Tie-break when two candidates cover the same length: the more specific (checksummed) kind wins. */
const KIND_PRIORITY: Record<PiiKind, number> = {
  iban: 0,
  card: 1,
  ssn: 2,
  email: 3,
  ip: 4,
  phone: 5,
  address: 6,
};

export function maskPii(text: string): MaskedText {
  const found = resolveOverlaps(text.length, [
    ...findEmails(text),
    ...findIbans(text),
    ...findNumericPii(text),
    ...findAddresses(text),
  ]);
  let masked = '';
  let cursor = 0;
  for (const finding of found) {
    masked += text.slice(cursor, finding.start) + PII_PLACEHOLDERS[finding.kind];
    cursor = finding.end;
  }
  return { text: masked + text.slice(cursor), found };
}

export const containsPii = (text: string): boolean => maskPii(text).found.length > 0;

/** Longest candidate wins, then the earliest, then the most specific kind. Returned in text order. */
function resolveOverlaps(length: number, candidates: PiiFinding[]): PiiFinding[] {
  const ranked = [...candidates].sort(
    (a, b) =>
      b.end - b.start - (a.end - a.start) ||
      a.start - b.start ||
      KIND_PRIORITY[a.kind] - KIND_PRIORITY[b.kind],
  );
  const taken = new Uint8Array(length);
  const accepted: PiiFinding[] = [];
  for (const candidate of ranked) {
    let free = true;
    for (let i = candidate.start; i < candidate.end && free; i++) free = taken[i] === 0;
    if (!free) continue;
    taken.fill(1, candidate.start, candidate.end);
    accepted.push(candidate);
  }
  return accepted.sort((a, b) => a.start - b.start);
}

// ---------------------------------------------------------------------------------------------------------
// Character classes

const code = (text: string, i: number): number => (i >= 0 && i < text.length ? text.charCodeAt(i) : -1);
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isAsciiLetter = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isAsciiAlnum = (c: number): boolean => isDigit(c) || isAsciiLetter(c);
/** Letters of any script count as word characters, so "ÄB12" is not split into "Ä" + "B12". */
const isWordChar = (c: number): boolean => isAsciiAlnum(c) || c === 95 || c > 127;

// ---------------------------------------------------------------------------------------------------------
// Email: expand around each '@'; local and domain parts never contain '@', so each character is read at
// most twice however many '@' the text holds.

const isLocalChar = (c: number): boolean =>
  isAsciiAlnum(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45;
const isDomainChar = (c: number): boolean => isAsciiAlnum(c) || c === 46 || c === 45;

function findEmails(text: string): PiiFinding[] {
  const out: PiiFinding[] = [];
  for (let at = text.indexOf('@'); at !== -1; at = text.indexOf('@', at + 1)) {
    let start = at;
    while (isLocalChar(code(text, start - 1))) start--;
    while (start < at && code(text, start) === 46) start++;
    let end = at + 1;
    while (isDomainChar(code(text, end))) end++;
    while (end > at + 1 && !isAsciiAlnum(code(text, end - 1))) end--;
    if (start === at || !isEmailDomain(text.slice(at + 1, end))) continue;
    out.push({ kind: 'email', start, end });
  }
  return out;
}

function isEmailDomain(domain: string): boolean {
  const labels = domain.split('.');
  const tld = labels[labels.length - 1] ?? '';
  return labels.length >= 2 && labels.every((l) => l.length > 0) && /^[A-Za-z]{2,24}$/.test(tld);
}

// ---------------------------------------------------------------------------------------------------------
// IBAN: country code + 2 check digits + BBAN of the country's registered length, optionally grouped by
// single spaces, validated with ISO 13616 mod-97.

/** Registered IBAN length per country (SWIFT IBAN registry). */
const IBAN_LENGTHS: ReadonlyMap<string, number> = new Map(
  (
    'AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DK18 DO28 EE20 ' +
    'EG29 ES24 FI18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 ' +
    'KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 MC27 MD24 ME22 MK19 MR27 MT31 MU30 NL18 NO15 PK24 PL28 ' +
    'PS29 PT25 QA29 RO24 RS22 SA24 SC31 SE24 SI19 SK24 SM27 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 ' +
    'XK20'
  )
    .split(' ')
    .map((entry) => [entry.slice(0, 2), Number(entry.slice(2))]),
);

const IBAN_START = /\b[A-Za-z]{2}\d{2}/g;

function findIbans(text: string): PiiFinding[] {
  const out: PiiFinding[] = [];
  for (const match of text.matchAll(IBAN_START)) {
    const start = match.index;
    const length = IBAN_LENGTHS.get(match[0].slice(0, 2).toUpperCase());
    if (length === undefined) continue;
    let compact = match[0].toUpperCase();
    let end = start + 4;
    while (compact.length < length) {
      let c = code(text, end);
      if (c === 32 && isAsciiAlnum(code(text, end + 1))) c = code(text, ++end);
      if (!isAsciiAlnum(c)) break;
      compact += String.fromCharCode(c).toUpperCase();
      end++;
    }
    if (compact.length !== length || isWordChar(code(text, end)) || !isValidIbanChecksum(compact)) continue;
    out.push({ kind: 'iban', start, end });
  }
  return out;
}

function isValidIbanChecksum(iban: string): boolean {
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const c = ch.charCodeAt(0);
    const value = isDigit(c) ? c - 48 : c - 55;
    remainder = value > 9 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97;
  }
  return remainder === 1;
}

// ---------------------------------------------------------------------------------------------------------
// Numbers: phones, cards, SSNs and IPv4 addresses. Maximal digit runs are collected once; a candidate is
// a chain of up to MAX_GROUPS runs joined by phone-style separators, classified by its shape.

interface DigitGroup {
  readonly start: number;
  readonly end: number;
  readonly digits: string;
}

/**
 * Groups first..last (inclusive) read as one number. One instance is reused while a chain grows, so the
 * hot loop allocates nothing; the digit string is only built for the checksum and prefix rules.
 */
interface Chain {
  readonly groups: readonly DigitGroup[];
  /** joins[k]: the separator between groups k and k+1 when it can sit inside a number, e.g. ' ', ') '. */
  readonly joins: readonly (string | undefined)[];
  first: number;
  last: number;
  digitCount: number;
  hasPlus: boolean;
  openParen: boolean;
  /** Preceded by a loose prefix such as '=' or '#': only self-evident shapes count. */
  loose: boolean;
}

const groupCount = (c: Chain): number => c.last - c.first + 1;
/** Digits in the chain's k-th group. */
const lengthAt = (c: Chain, k: number): number => c.groups[c.first + k]!.digits.length;
/** Separator after the chain's k-th group. */
const sepAt = (c: Chain, k: number): string => c.joins[c.first + k]!;
const chainDigits = (c: Chain): string => {
  let digits = '';
  for (let k = c.first; k <= c.last; k++) digits += c.groups[k]!.digits;
  return digits;
};

function hasShape(c: Chain, ...lengths: number[]): boolean {
  if (groupCount(c) !== lengths.length) return false;
  for (let k = 0; k < lengths.length; k++) if (lengthAt(c, k) !== lengths[k]) return false;
  return true;
}

function allSeps(c: Chain, allowed: string): boolean {
  for (let k = c.first; k < c.last; k++) if (c.joins[k] !== allowed) return false;
  return true;
}

/**
 * Cue words before a number ("call me on", "order no.", "SSN", "version"). Phone and id cues are found once
 * per text and walked with a cursor, since numbers are visited left to right; the rarer cues are read
 * lazily from a short window.
 */
class Cues {
  private words: CueWord[] | undefined;
  private cursor = 0;
  private spanStart = 0;
  private ssn: boolean | undefined;
  private version: boolean | undefined;
  constructor(private readonly text: string) {}

  /** Moves to the next number; spans must arrive in increasing order. */
  at(spanStart: number): this {
    this.spanStart = spanStart;
    this.ssn = undefined;
    this.version = undefined;
    return this;
  }

  /** Which cue word sits closest before the number. */
  nearest(): 'phone' | 'id' | undefined {
    this.words ??= cueWords(this.text);
    while (this.cursor < this.words.length && this.words[this.cursor]!.end <= this.spanStart) this.cursor++;
    const last = this.words[this.cursor - 1];
    return last !== undefined && last.start >= this.spanStart - CUE_WINDOW ? last.kind : undefined;
  }

  ssnCue(): boolean {
    this.ssn ??= SSN_CUE.test(this.before());
    return this.ssn;
  }

  versionCue(): boolean {
    this.version ??= VERSION_CUE.test(this.before());
    return this.version;
  }

  private before(): string {
    return this.text.slice(Math.max(0, this.spanStart - CUE_WINDOW), this.spanStart);
  }
}

interface CueWord {
  readonly kind: 'phone' | 'id';
  readonly start: number;
  readonly end: number;
}

/** Every phone/id cue word in the text, ordered by end. */
function cueWords(text: string): CueWord[] {
  const words: CueWord[] = [];
  for (const m of text.matchAll(PHONE_CUE))
    words.push({ kind: 'phone', start: m.index, end: m.index + m[0].length });
  for (const m of text.matchAll(ID_CUE))
    words.push({ kind: 'id', start: m.index, end: m.index + m[0].length });
  return words.sort((x, y) => x.end - y.end || x.start - y.start);
}

const CUE_WINDOW = 40;
const MAX_GROUPS = 6;
const MAX_PHONE_DIGITS = 19;
const PHONE_SEPARATORS = new Set([' ', '-', '.', '/', ' (', '(', ') ', ')', ')-']);
/** Characters that make a number part of the token before it: "INV-2026", "v2.3", "$1,200", "ERR_429". */
const JOINERS = new Set(['-', '.', ',', '/', '_']);
const CURRENCIES = new Set(['$', '€', '£', '¥']);
/** Prefixes that only weakly bind: "id=0612345678" is an id, but "ip=10.1.2.3" and "tel:+44..." are not. */
const LOOSE_PREFIXES = new Set([':', '#', '@', '=', '&', '\\']);

const PHONE_CUE =
  /\b(?:phone|tel|telephone|mobile|cell|cellphone|call|calls|called|calling|text|sms|whatsapp|signal|fax|landline|reach me|ring|number is|no\. is|contact)\b/gi;
const ID_CUE =
  /\b(?:order|invoice|inv|ticket|case|ref|reference|tracking|account|acct|id|sku|po|serial|version|build|error|code|transaction|txn|receipt|confirmation|booking|workspace|tenant|project|user|customer|job|request|batch)\b|#/gi;
const SSN_CUE = /\b(?:ssn|social security|social-security|itin|tax id)\b/i;
const VERSION_CUE =
  /(?:\bv|\bv\.|\bver|\brev|\bversion|\bbuild|\brelease|\bfirmware|\bchrome|\bfirefox|\bsafari|\bedge|\bios|\bandroid|\bmacos|\bwindows|\bsdk|\bapp)\W{0,3}$/i;

function digitGroups(text: string): DigitGroup[] {
  const groups: DigitGroup[] = [];
  let i = 0;
  while (i < text.length) {
    if (!isDigit(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const start = i;
    while (i < text.length && isDigit(text.charCodeAt(i))) i++;
    groups.push({ start, end: i, digits: text.slice(start, i) });
  }
  return groups;
}

function findNumericPii(text: string): PiiFinding[] {
  const groups = digitGroups(text);
  const joins = groups.map((g, k) => {
    const next = groups[k + 1];
    if (next === undefined || next.start - g.end > 2) return undefined;
    const sep = text.slice(g.end, next.start);
    return PHONE_SEPARATORS.has(sep) ? sep : undefined;
  });
  const chain: Chain = {
    groups,
    joins,
    first: 0,
    last: 0,
    digitCount: 0,
    hasPlus: false,
    openParen: false,
    loose: false,
  };
  const cues = new Cues(text);
  const out: PiiFinding[] = [];
  for (let i = 0; i < groups.length; i++) {
    const first = groups[i]!;
    const hasPlus = code(text, first.start - 1) === 43;
    const openParen = code(text, first.start - 1) === 40 && first.digits.length <= 4 && opensAt(joins[i]);
    const spanStart = hasPlus || openParen ? first.start - 1 : first.start;
    const glue = glueBefore(text, spanStart);
    if (glue === 'tight') continue;
    cues.at(spanStart);
    Object.assign(chain, {
      first: i,
      last: i,
      digitCount: first.digits.length,
      hasPlus,
      openParen,
      loose: glue === 'loose',
    });
    // Inside an open parenthesis that must close right after the current group: "(415", "+44 (0".
    let inParen = openParen;
    let best: PiiFinding | undefined;
    for (;;) {
      const end = groups[chain.last]!.end;
      if (!inParen) {
        const kind = classifyChain(chain, cues);
        if (kind !== undefined && !isGluedAfter(text, end, kind)) best = { kind, start: spanStart, end };
      }
      const sep = joins[chain.last];
      const next = groups[chain.last + 1];
      if (sep === undefined || next === undefined) break;
      if (groupCount(chain) >= MAX_GROUPS || chain.digitCount > MAX_PHONE_DIGITS) break;
      if (inParen !== sep.startsWith(')')) break;
      inParen = sep.endsWith('(');
      if (inParen && next.digits.length > 4) break;
      chain.last++;
      chain.digitCount += next.digits.length;
    }
    if (best !== undefined) out.push(best);
  }
  return out;
}

/** "(415) 555" or "(0)20": the parenthesis belongs to the number only when it closes right after a group. */
const opensAt = (sep: string | undefined): boolean => sep?.startsWith(')') ?? false;

function glueBefore(text: string, start: number): 'none' | 'loose' | 'tight' {
  const before = text[start - 1];
  if (before === undefined) return 'none';
  if (isWordChar(before.charCodeAt(0)) || CURRENCIES.has(before)) return 'tight';
  // "INV-2026", "v2.3", "1.200": and "(0)20", whose start is found from the opening parenthesis.
  if ((JOINERS.has(before) || before === ')') && isWordChar(code(text, start - 2))) return 'tight';
  return LOOSE_PREFIXES.has(before) ? 'loose' : 'none';
}

function isGluedAfter(text: string, end: number, kind: PiiKind): boolean {
  const after = text[end];
  if (after === undefined) return false;
  if (isWordChar(after.charCodeAt(0)) || after === '%') return true;
  if (kind === 'ip' && (after === ':' || after === '/')) return false;
  return (JOINERS.has(after) || after === ':') && isAsciiAlnum(code(text, end + 1));
}

function classifyChain(chain: Chain, cues: Cues): PiiKind | undefined {
  if (chain.digitCount < 4) return undefined;
  if (isSsn(chain, cues)) return 'ssn';
  if (isCard(chain)) return 'card';
  if (isIpv4(chain, cues)) return 'ip';
  if (isPhone(chain, cues)) return 'phone';
  return undefined;
}

function isSsn(chain: Chain, cues: Cues): boolean {
  if (chain.hasPlus || chain.openParen || chain.digitCount !== 9) return false;
  const count = groupCount(chain);
  if (count !== 1 && !hasShape(chain, 3, 2, 4)) return false;
  const d = chainDigits(chain);
  if (d.startsWith('000') || d.slice(3, 5) === '00' || d.endsWith('0000')) return false;
  if (count === 1) return cues.ssnCue();
  return allSeps(chain, '-') || (allSeps(chain, ' ') && cues.ssnCue());
}

function isCard(chain: Chain): boolean {
  if (chain.hasPlus || chain.openParen || chain.digitCount < 13 || chain.digitCount > 19) return false;
  // Payment networks issue from 2-6 (Mastercard 2/5, Amex/Diners/JCB 3, Visa 4, Discover/UnionPay 6).
  const lead = chain.groups[chain.first]!.digits[0]!;
  if (lead < '2' || lead > '6') return false;
  const count = groupCount(chain);
  if (
    count > 1 &&
    !((sepAt(chain, 0) === ' ' || sepAt(chain, 0) === '-') && allSeps(chain, sepAt(chain, 0)))
  ) {
    return false;
  }
  for (let k = 0; k < count - 1; k++) if (lengthAt(chain, k) < 4 || lengthAt(chain, k) > 6) return false;
  return luhnValid(chainDigits(chain));
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let k = 0; k < digits.length; k++) {
    let d = digits.charCodeAt(digits.length - 1 - k) - 48;
    if (k % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

function isIpv4(chain: Chain, cues: Cues): boolean {
  if (groupCount(chain) !== 4 || chain.hasPlus || chain.openParen || !allSeps(chain, '.')) return false;
  for (let k = chain.first; k <= chain.last; k++) {
    const octet = chain.groups[k]!.digits;
    if (octet.length > 3 || Number(octet) > 255) return false;
  }
  return !cues.versionCue();
}

function isPhone(chain: Chain, cues: Cues): boolean {
  const count = groupCount(chain);
  if (chain.digitCount < 7 || looksLikeDate(chain)) return false;
  // A trailing single digit is a count or a footnote, not a subscriber number: "+44 20 7946 0958 2 times".
  if (count > 1 && lengthAt(chain, count - 1) < 2) return false;
  const lead = chain.groups[chain.first]!.digits;
  if (chain.hasPlus) return isInternational(chain, chain.digitCount, lead[0] === '1');
  if (lead.startsWith('00') && count > 1 && lead.length <= 5) {
    const number = chainDigits(chain).slice(2);
    return isInternational(chain, number.length, number[0] === '1');
  }
  if (chain.digitCount > 15) return false;
  const formatted = count > 1 || chain.openParen;
  if (formatted && isNanp(chain)) return true;
  const cue = cues.nearest();
  if (formatted && isTrunkPrefixed(chain) && cue !== 'id') return true;
  if (cue === 'phone') return true;
  const trunkRun = !formatted && chain.digitCount >= 10 && chain.digitCount <= 11 && /^0[1-9]/.test(lead);
  return trunkRun && cue === undefined && !chain.loose;
}

/** After "+" or "00": country code and subscriber number, 8 to 15 digits (E.164); +1 is always 11. */
function isInternational(chain: Chain, length: number, northAmerican: boolean): boolean {
  if (length < 8 || length > 15 || (northAmerican && length !== 11)) return false;
  return groupCount(chain) === 1 || lengthAt(chain, 0) <= 5;
}

/** North American numbering: [1] NXX NXX XXXX, e.g. "(415) 555-0132", "1-800-555-0199". */
function isNanp(chain: Chain): boolean {
  const withCountry = hasShape(chain, 1, 3, 3, 4) && chain.groups[chain.first]!.digits === '1';
  if (!withCountry && !hasShape(chain, 3, 3, 4)) return false;
  const area = chain.groups[chain.first + (withCountry ? 1 : 0)]!.digits;
  const exchange = chain.groups[chain.first + (withCountry ? 2 : 1)]!.digits;
  if (area[0]! < '2' || exchange[0]! < '2') return false;
  for (let k = chain.first; k < chain.last; k++) if (chain.joins[k] === '/') return false;
  return true;
}

/** National formats with a trunk 0: "020 7946 0958", "06 12 34 56 78", "030/1234567", "(0)20 ...". */
function isTrunkPrefixed(chain: Chain): boolean {
  const lead = chain.groups[chain.first]!.digits;
  if (lead[0] !== '0' || chain.digitCount < 9 || chain.digitCount > 14 || lead.length > 5) return false;
  let plain: string | undefined;
  for (let k = 1; k < groupCount(chain); k++) {
    if (lengthAt(chain, k) < 2) return false;
    const sep = sepAt(chain, k - 1);
    if (sep.includes('(') || sep.includes(')')) continue;
    plain ??= sep;
    if (sep !== plain) return false;
  }
  return true;
}

const dayOrMonth = (n: number): boolean => n === 1 || n === 2;

/** 2026-11-28, 28.11.2026, 11/28/2026: never phone numbers, however a cue word reads. */
function looksLikeDate(chain: Chain): boolean {
  if (groupCount(chain) !== 3) return false;
  const sep = sepAt(chain, 0);
  if (sep !== '-' && sep !== '.' && sep !== '/') return false;
  const [a, b, c] = [lengthAt(chain, 0), lengthAt(chain, 1), lengthAt(chain, 2)];
  return (
    (a === 4 && dayOrMonth(b) && dayOrMonth(c)) || (dayOrMonth(a) && dayOrMonth(b) && (c === 2 || c === 4))
  );
}

// ---------------------------------------------------------------------------------------------------------
// Street addresses. Every repetition below is bounded and its items are separated by whitespace, so the
// number of ways to match at one position is a small constant.

const US_SUFFIX =
  'Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Way|Court|Ct|Place|Pl|Terrace|Ter|Parkway|Pkwy|Highway|Hwy|Square|Sq';
const US_UNIT = String.raw`(?:,?\s*(?:Apt|Apartment|Unit|Suite|Ste|Flat|Floor|Fl|Room|Rm|#)\.?\s*#?\s*[A-Za-z0-9-]{1,6}\b)?`;
const US_CITY_ZIP = String.raw`(?:,\s*[A-Z][a-zA-Z]+(?:\s[A-Z][a-zA-Z]+){0,2},?\s+[A-Z]{2}\s+\d{5}(?:-\d{4})?\b)?`;
const UK_POSTCODE = String.raw`(?:,\s*[A-Z][a-zA-Z]+,?\s+[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b)?`;
const DIRECTION = '(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)';

/** Words that make "2 Google Drive" or "3 Shared Drive" product talk rather than an address. */
const NOT_STREET_NAMES = new Set([
  'google',
  'shared',
  'team',
  'my',
  'external',
  'network',
  'hard',
  'usb',
  'one',
]);

const US_ADDRESS = new RegExp(
  String.raw`\b\d{1,6}[A-Za-z]?\s+(?:${DIRECTION}\.?\s+)?((?:(?:[A-Z][a-zA-Z'-]*|\d{1,3}(?:st|nd|rd|th))\.?\s+){1,4})(?:${US_SUFFIX})\b\.?(?:\s+${DIRECTION}\b)?` +
    US_UNIT +
    US_CITY_ZIP +
    UK_POSTCODE,
  'g',
);
const US_ADDRESS_LOWER = new RegExp(
  String.raw`\b\d{1,5}\s+(?:[a-z]{3,}\s+){1,2}(?:street|avenue|boulevard)\b` + US_UNIT,
  'g',
);

/** "10115 Berlin", "1015 CJ Amsterdam", "1050 Bruxelles" after a European street. */
const POSTAL_CITY = String.raw`(?:,?\s+(?:\d{4}\s?\p{Lu}{2}|\d{4,5})\s+\p{Lu}[\p{L}'’-]*)?`;

const FR_PARTICLES = String.raw`(?:(?:de|du|des|la|le|les|d'|l'|d’|l’)\s*){0,3}`;
const CAP_WORD = String.raw`\p{Lu}[\p{L}'’-]*`;
const FR_ADDRESS = new RegExp(
  String.raw`(?<![\p{L}\d])\d{1,4}(?:\s?(?:bis|ter|[a-dA-D]))?,?\s+(?:` +
    String.raw`(?:[Rr]ue|[Bb]oulevard|[Bb]d|[Ii]mpasse|[Aa]llée|[Qq]uai|[Cc]hemin)\s+${FR_PARTICLES}\p{L}[\p{L}'’-]*` +
    String.raw`|(?:[Aa]venue|[Aa]v\.|[Pp]lace|[Cc]ours|[Rr]oute|[Ss]quare)\s+${FR_PARTICLES}${CAP_WORD}` +
    String.raw`)(?:\s+${FR_PARTICLES}${CAP_WORD}){0,2}` +
    POSTAL_CITY,
  'gu',
);

const GERMANIC_SUFFIX =
  'straße|strasse|str\\.|weg|gasse|platz|allee|damm|ufer|chaussee|straat|laan|plein|gracht|kade|singel|dijk|gatan|vägen|gata|vej|gade|veien|vegen';
const GERMANIC_ADDRESS = new RegExp(
  String.raw`(?<![\p{L}\d])(?:\p{Lu}\p{Ll}+[ -])?(?:\p{Lu}[\p{Ll}ß]*(?:${GERMANIC_SUFFIX})|Straße|Strasse|Str\.|Weg|Gasse|Platz|Allee)` +
    String.raw`\s+\d{1,4}\s?[a-zA-Z]?(?![\p{L}\d])` +
    POSTAL_CITY,
  'gu',
);

const ROMANCE_ADDRESS = new RegExp(
  String.raw`(?<![\p{L}\d])(?:Rue|Avenue|Boulevard|Calle|C\/|Avenida|Avda\.|Plaza|Paseo|Camino|Carrer|Via|Viale|Piazza|Corso|Vicolo|Rua|Travessa|Largo|Praça)\s+` +
    String.raw`(?:(?:de la|de|del|della|delle|dei|di|da|do|dos|das)\s+){0,2}${CAP_WORD}(?:\s+${CAP_WORD}){0,2},?\s+(?:n\.?\s?º?\s*)?\d{1,4}[a-zA-Z]?(?![\p{L}\d])` +
    POSTAL_CITY,
  'gu',
);

/** English words that happen to end like a Germanic street: "Brigade 3". */
const NOT_STREET_WORDS = new Set(['brigade', 'renegade', 'escapade']);

function findAddresses(text: string): PiiFinding[] {
  const out: PiiFinding[] = [];
  const add = (m: RegExpExecArray): void => {
    out.push({ kind: 'address', start: m.index, end: m.index + m[0].length });
  };
  for (const m of text.matchAll(US_ADDRESS)) {
    if (!NOT_STREET_NAMES.has(firstWord(m[1] ?? ''))) add(m);
  }
  for (const m of text.matchAll(GERMANIC_ADDRESS)) {
    if (!NOT_STREET_WORDS.has(firstWord(m[0]))) add(m);
  }
  for (const pattern of [US_ADDRESS_LOWER, FR_ADDRESS, ROMANCE_ADDRESS]) {
    for (const m of text.matchAll(pattern)) add(m);
  }
  return out;
}

const firstWord = (text: string): string => (text.trim().split(/\s+/)[0] ?? '').toLowerCase();
