/**
 * Text analysis shared by lexical retrieval and the classifier's lexical features:
 * normalisation, tokenisation, stop words, a support-domain synonym map and Porter stemming.
 * Pure; the synonym map is generic support vocabulary, not tied to one knowledge base.
 */
import { stemmer } from 'stemmer';

const STOP_WORDS = new Set(
  (
    'a about above after again all am an and any are as at be because been before being below between both but by ' +
    'could did do does doing down during each few for from further had has have having he her here hers herself ' +
    'him himself his i if in into is it its itself just me more most my myself nor of off on once only or other ' +
    'ought our ours ourselves out over own same she should so some such than that the their theirs them ' +
    'themselves then there these they this those through to too under until up very was we were what when where ' +
    'which while who whom why how will with would you your yours yourself yourselves im ive id youre hi hello hey ' +
    'please thanks thank pls plz hey guys also still really get got just anyone someone can cant could us its'
  ).split(' '),
);

/** Multi-word expressions folded into one token before tokenising. Order matters: longer first. */
const PHRASES: readonly [RegExp, string][] = [
  [/\btwo[\s-]?factor(?: authentication| auth)?\b|\bmulti[\s-]?factor(?: authentication| auth)?\b/g, ' 2fa '],
  [/\bsingle[\s-]sign[\s-]?on\b/g, ' sso '],
  [/\b(?:sign|log|logg)(?:ing|ed)?[\s-]?(?:in|on)(?:to)?\b/g, ' login '],
  [/\b(?:sign|log)(?:ing|ged|ed)?[\s-]?(?:out|off)\b/g, ' logout '],
  [/\bsign(?:ing|ed)?[\s-]?up\b/g, ' signup '],
  [/\be[\s-]mail\b/g, ' email '],
  [/\bpass[\s-]word\b/g, ' password '],
  [/\bcredit[\s-]card\b|\bdebit[\s-]card\b/g, ' card '],
  [/\bmoney back\b/g, ' refund '],
  [/\bapi[\s-]key\b/g, ' apikey '],
  [/\bdark[\s-]mode\b/g, ' darkmode '],
  [
    /\bnot (?:working|loading|responding)\b|\bdoesn'?t work\b|\bdon'?t work\b|\bisn'?t working\b/g,
    ' broken ',
  ],
  [/\bcan'?t|\bcannot\b|\bunable to\b/g, ' unable '],
];

/** Single-word synonyms mapped onto one canonical token (applied before stemming). */
const SYNONYMS: Record<string, string> = {
  signin: 'login',
  logon: 'login',
  logins: 'login',
  mfa: '2fa',
  otp: '2fa',
  totp: '2fa',
  authenticator: '2fa',
  passwd: 'password',
  pwd: 'password',
  passcode: 'password',
  pw: 'password',
  mail: 'email',
  emails: 'email',
  e_mail: 'email',
  receipt: 'invoice',
  receipts: 'invoice',
  invoices: 'invoice',
  bill: 'invoice',
  bills: 'invoice',
  billed: 'charge',
  charged: 'charge',
  charges: 'charge',
  fee: 'price',
  fees: 'price',
  cost: 'price',
  costs: 'price',
  pricing: 'price',
  prices: 'price',
  reimburse: 'refund',
  reimbursement: 'refund',
  refunded: 'refund',
  delete: 'remove',
  deleting: 'remove',
  deleted: 'remove',
  erase: 'remove',
  sluggish: 'slow',
  laggy: 'slow',
  lag: 'slow',
  lagging: 'slow',
  crashes: 'crash',
  crashing: 'crash',
  crashed: 'crash',
  freezes: 'crash',
  app: 'app',
  apps: 'app',
  iphone: 'ios',
  ipad: 'ios',
  android: 'android',
  workspace: 'workspace',
  org: 'organization',
  organisation: 'organization',
  colleague: 'user',
  colleagues: 'user',
  teammate: 'user',
  teammates: 'user',
  member: 'user',
  members: 'user',
  users: 'user',
  seat: 'user',
  seats: 'user',
  subscription: 'plan',
  subscriptions: 'plan',
  plans: 'plan',
  tier: 'plan',
  upgrade: 'upgrade',
  downgrade: 'downgrade',
  unsubscribe: 'unsubscribe',
  notif: 'notification',
  notifs: 'notification',
  alerts: 'alert',
  csv: 'csv',
  xlsx: 'excel',
  xls: 'excel',
  spreadsheet: 'excel',
  pdf: 'pdf',
  graph: 'chart',
  graphs: 'chart',
  charts: 'chart',
  dashboards: 'dashboard',
  reports: 'report',
  reporting: 'report',
  webhooks: 'webhook',
  integrations: 'integration',
  integrate: 'integration',
  connector: 'integration',
  connectors: 'integration',
  doesnt: 'not',
  dont: 'not',
  isnt: 'not',
  wont: 'not',
  didnt: 'not',
  never: 'not',
  mobile: 'mobile',
  phone: 'mobile',
  cellphone: 'mobile',
  twofa: '2fa',
};

export interface AnalyzeOptions {
  /** Keep stop words (used for classifier n-grams, where "how do I" carries intent). */
  readonly keepStopWords?: boolean;
}

/** Lower-cases, folds accents and punctuation, and applies the phrase map. */
export function normalizeText(text: string): string {
  let value = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[’‘`]/g, "'");
  for (const [pattern, replacement] of PHRASES) value = value.replace(pattern, replacement);
  return value;
}

/** Splits normalised text into raw word tokens (letters, digits, inner dots/underscores kept out). */
export function tokenize(normalized: string): string[] {
  return normalized.replace(/'/g, '').match(/[\p{L}\p{N}]+/gu) ?? [];
}

const stemCache = new Map<string, string>();

function stem(token: string): string {
  let cached = stemCache.get(token);
  if (cached === undefined) {
    cached = /\d/.test(token) ? token : stemmer(token);
    if (stemCache.size < 200_000) stemCache.set(token, cached);
  }
  return cached;
}

/** Full pipeline: normalise → tokenise → synonyms → stop words → stem. */
export function analyze(text: string, options: AnalyzeOptions = {}): string[] {
  const terms: string[] = [];
  for (const raw of tokenize(normalizeText(text))) {
    const token = SYNONYMS[raw] ?? raw;
    if (!options.keepStopWords && STOP_WORDS.has(token)) continue;
    if (token.length > 40) continue;
    terms.push(stem(token));
  }
  return terms;
}

/** FNV-1a 32-bit hash, used for the hashing trick in lexical features. */
export function hashString(value: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    hash ^= value.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
