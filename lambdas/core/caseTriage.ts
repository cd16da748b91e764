/**
 * Triage of an escalation: team queue from intent, signals read from the conversation (outage, security,
 * data loss, payment failure, legal threat, anger, urgency, a request for a human), priority from the
 * rule table (triageRules.ts) and the customer tier, a one-line subject, the handoff summary and the
 * entities an agent needs (product areas, versions, customer/order/invoice ids, e-mails, error codes).
 * Pure: the SLA clock (slaPolicy.ts) and the CRM lookup belong to the escalation workflow.
 */
import type { Citation } from './conversationEngine';
import type { CustomerProfile, CustomerTier } from './crm';
import type { SentimentReading } from './customerSentiment';
import type { EscalationReason } from './escalationPolicy';
import type { HandoffPacket, MessageRecord, Priority } from './supportRecords';
import {
  DEFAULT_PRIORITY_RULES,
  decidePriority,
  type PriorityRule,
  TRIAGE_SIGNALS,
  type TriageSignal,
} from './triageRules';
import {
  INTENT_NAMES,
  type Intent,
  isIntent,
  isProductArea,
  PRODUCT_AREA_NAMES,
  PRODUCT_AREAS,
  type ProductArea,
} from './types';

export { TRIAGE_SIGNALS, type TriageSignal } from './triageRules';

export const QUEUE_BY_INTENT: Record<Intent, string> = {
  billing_question: 'billing',
  technical_issue: 'technical',
  account_management: 'account',
  feature_request: 'general',
  general_inquiry: 'general',
};

/** Enterprise customers have their own lane in every team: their cases go to `<team>-enterprise`. */
export function routedQueue(teamQueue: string, tier: string): string {
  return tier === 'enterprise' && !teamQueue.endsWith('-enterprise') ? `${teamQueue}-enterprise` : teamQueue;
}

/** Every queue a case can land in (team queues and their enterprise lanes). */
export const ALL_QUEUES: readonly string[] = [...new Set(Object.values(QUEUE_BY_INTENT))].flatMap((queue) => [
  queue,
  `${queue}-enterprise`,
]);

// Entities: what an agent would otherwise copy out of the conversation by hand. Every pattern needs a shape
// that is hard to mistake (a CUST-/INV-/ORD- prefix, an "@", an E1234 code) or a context word ("version",
// "order #", "error"), so dates, prices, times and phone numbers stay out.

export const ENTITY_KEYS = [
  'productAreas',
  'versions',
  'customerIds',
  'emails',
  'orderIds',
  'invoiceIds',
  'errorCodes',
] as const;
export type EntityKey = (typeof ENTITY_KEYS)[number];

const MAX_PER_KEY = 10;

/** Explicit mentions of a product area: its own words plus the vocabulary customers use for it. */
const AREA_MENTIONS: Record<ProductArea, RegExp> = {
  authentication_sso:
    /\b(?:sso|single[\s-]sign[\s-]?on|saml|oidc|okta|azure ad|entra|onelogin|scim|idp|authenticat\w*|2fa|mfa|two[\s-]factor|passwords?|recovery codes?|log(?:ged|ging)?[\s-]?(?:in|on)|login|sign(?:ed|ing)?[\s-]?in|signin)\b/,
  billing_subscriptions:
    /\b(?:billing|billed|invoices?|invoiced|receipts?|subscriptions?|refunds?|charged|charges?|chargebacks?|payments?|card|vat|pricing|prices?|discount|renew\w*|trial|(?:service |sla )credits?|downgrad\w*|upgrad(?:e|ed|ing) (?:to|from) (?:the )?(?:free|pro|business|enterprise)(?: plan)?)\b/,
  dashboards_reporting:
    /\b(?:dashboards?|reports?(?! (?:a|an|it|this|that|you|them|to)\b)|reporting(?! (?:a|an|it|this|that|you|them|to)\b)|charts?|widgets?|embed\w*|calculated fields?|drill[\s-]?downs?|kpis?)\b/,
  api_integrations:
    /\b(?:api|apis|webhooks?|integrations?|oauth|sdks?|endpoints?|zapier|zaps?|salesforce|hubspot|snowflake|bigquery|redshift)\b/,
  mobile_app: /\b(?:mobile|ios|ipados|android|iphone|ipad|tablet|app store|play store|face id|fingerprint)\b/,
  notifications: /\b(?:notifications?|alerts?|digests?|push|unsubscribe|quiet hours)\b/,
  data_import_export:
    /\b(?:import\w*|export\w*|csv|xlsx|excel|uploads?|uploading|connectors?|syncs?|syncing|datasets?)\b/,
  users_teams:
    /\b(?:invite[sd]?|inviting|invitations?|team members?|roles?|permissions?|ownership|guests?|user management|offboard\w*|deactivat\w+ (?:a |the )?users?|(?:add|remov)(?:e|ing)? (?:a |new )?users?|(?:add|remov|invit)\w* [^.!?]{1,30}? (?:from|to) (?:our|the|my) (?:workspace|team|account))\b/,
  search: /\b(?:search\w*|ctrl\s?\+\s?k|cmd\s?\+\s?k)\b/,
  performance_reliability:
    /\b(?:slow\w*|outages?|down\s?time|(?:is|are|was|were|been|went|goes) (?:[\w-]+ ){0,3}?(?:completely |totally |still )?down(?! to| from| by| \d)|time[sd]?[\s-]?out|timing out|latency|lag(?:gy|s)?|status page|uptime|performance|memory|not loading for|nothing (?:is )?loading)\b/,
};

/** A version number needs a version word or a software name next to it ("v2.3", "iOS 17.4", "build 882"). */
const VERSION_PATTERNS: readonly RegExp[] = [
  /(?<![\w.])v\.?(\d+(?:\.\d+){0,3})\b(?![.,]\d)/gi,
  /\b(?:version|ver\.|release|build|rel\.)\s*(?:no\.?|number|#)?\s*:?\s*v?(\d+(?:\.\d+){0,3})\b(?![.,]\d)/gi,
  /(?<![\d.,$€£])\b(\d+(?:\.\d+){1,3})\s+(?:release|version|build|update)\b/gi,
  /\b(?:ios|ipados|android|macos|os x|windows|chrome|chromium|firefox|safari|edge|python|node(?:\.js)?|java|php|ruby|sdk|app|client|plugin|library|package|browser)\s+(?:app\s+|sdk\s+|client\s+)?v?(\d+(?:\.\d+){1,3})\b(?![.,]\d)/gi,
  /\b(?:ios|ipados|android|macos|windows|chrome|firefox|safari|edge)\s+(\d{1,3})\b(?![.,:/]\d)/gi,
  /\b(?:updat|upgrad|downgrad|migrat|roll(?:ed|ing)?\s+back)\w*\b[^.!?\n]{0,30}?\bto\s+v?(\d+(?:\.\d+){1,3})\b(?![.,]\d)/gi,
  // Three-part numbers are versions by shape (dates have a four-digit year, IP addresses four parts).
  /(?<![\w.,$€£])(\d{1,3}\.\d{1,3}\.\d{1,3})\b(?![.,]\d)/g,
];

const CUSTOMER_ID_PATTERNS: readonly RegExp[] = [
  /\b(CUST(?:OMER)?[-_#]?\d{3,})\b/gi,
  /\b(?:customer|cust|client|account|acct)\.?\s*(?:id|number|no\.?|num|#)\s*(?:is|:|=)?\s*#?\s*([A-Z0-9][A-Z0-9-]*\d[A-Z0-9-]*)\b/gi,
];
/** Stripe customer ids are case-sensitive: they are kept exactly as written. */
const STRIPE_CUSTOMER_ID = /\b(cus_[A-Za-z0-9]{6,})\b/g;

// The look-behind starts a match only where a run of address characters starts: linear, not quadratic.
const EMAIL = /(?<![A-Z0-9._%+-])[A-Z0-9._%+-]+@[A-Z0-9-]+(?:\.[A-Z0-9-]+)*\.[A-Z]{2,}/gi;

const ORDER_ID_PATTERNS: readonly RegExp[] = [
  /\b(ORD-[A-Z0-9]*\d[A-Z0-9]*(?:-[A-Z0-9]+)*)\b/gi,
  /\border\s*(?:#|no\.?|number|num\.?|id|ref(?:erence)?)\s*:?\s*#?\s*([A-Z0-9]*\d[A-Z0-9]*(?:[-/][A-Z0-9]+)*)\b/gi,
  /\border\s+(\d{4,}(?:-[A-Z0-9]+)*)\b/gi,
];

const INVOICE_ID_PATTERNS: readonly RegExp[] = [
  /\b(INV-?\d[A-Z0-9]*(?:-[A-Z0-9]+)*|INV-[A-Z0-9]*\d[A-Z0-9]*(?:-[A-Z0-9]+)*)\b/gi,
  /\b(?:invoice|inv\.?)\s*(?:#|no\.?|number|num\.?|id|ref(?:erence)?)?\s*:?\s*#?\s*(\d[A-Z0-9]{2,}(?:[-/][A-Z0-9]+)*)\b/gi,
];

const HTTP_ERROR_WORDS =
  'errors?|response|status|bad request|unauthori[sz]ed|forbidden|not found|method not allowed|conflict|gone|too many requests|internal server error|not implemented|bad gateway|service unavailable|gateway time-?out';
const HTTP_STATUS_PATTERNS: readonly RegExp[] = [
  /\bhttp\s*(?:\/\d(?:\.\d)?\s*)?(?:status\s*)?(?:code\s*)?[:#]?\s*([45]\d\d)\b/gi,
  /\b(?:error|status|code|response)\s*(?:code\s*)?[:=#]?\s*([45]\d\d)\b(?![.,]\d)/gi,
  new RegExp(`(?<![\\d$€£.,])\\b([45]\\d\\d)s?\\s*[-:]?\\s*(?:${HTTP_ERROR_WORDS})\\b`, 'gi'),
  // "429s", "502s": a plural three-digit 4xx/5xx number is an HTTP status.
  /(?<![\d$€£.,])\b([45]\d\d)s\b/gi,
  /\b(?:returns?|returned|returning|getting|got|throws?|throwing|gives?|giving|seeing)\s+(?:an?\s+|the\s+)?([45]\d\d)s?(?=\s*(?:[.,;:!?)'"]|$|\s+(?:on|from|for|when|after|again|every|back)\b))/gi,
];
const ERROR_CODE_PATTERNS: readonly RegExp[] = [
  /\b(E\d{3,5})\b/g,
  /\b(ERR-[A-Z0-9]+)\b/gi,
  /\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\b/g,
  /\berror\s+code\s*[:#]?\s*([A-Z0-9][A-Z0-9_-]*\d[A-Z0-9_-]*)\b/gi,
];
/** snake_case words are error codes in a sentence about an error (Stripe's card_declined, OAuth's invalid_grant). */
const ERROR_SENTENCE =
  /\b(?:error|code|fail\w*|declin\w*|reject\w*|denied|exception|throw\w*|raise[sd]?|returns?|returned)\b/i;
const LOWER_SNAKE = /(?<![\w@.])([a-z]+(?:_[a-z]+)+)\b(?![@.]\w)/g;

interface Found {
  readonly at: number;
  readonly value: string;
}

function findAll(text: string, patterns: readonly RegExp[], normalise: (v: string) => string): Found[] {
  const found: Found[] = [];
  for (const pattern of patterns)
    for (const m of text.matchAll(pattern)) {
      const value = m[1] ?? m[0];
      found.push({ at: m.index + m[0].indexOf(value), value: normalise(value) });
    }
  return found;
}

const asIs = (v: string) => v;
const upper = (v: string) => v.toUpperCase();
const lower = (v: string) => v.toLowerCase();
const FULL_DATE = /^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})$/;

/** Values in order of appearance, deduplicated. */
const inOrder = (found: readonly Found[], keep: (value: string) => boolean = () => true): string[] => [
  ...new Set(
    [...found]
      .sort((a, b) => a.at - b.at)
      .map((f) => f.value)
      .filter(keep),
  ),
];

function productAreasIn(text: string): string[] {
  const lowered = text.toLowerCase();
  return inOrder(
    PRODUCT_AREAS.flatMap((area) => {
      const at = lowered.search(AREA_MENTIONS[area]);
      return at === -1 ? [] : [{ at, value: area }];
    }),
  );
}

function errorCodesIn(text: string): string[] {
  const http = findAll(text, HTTP_STATUS_PATTERNS, (v) => `HTTP ${v}`);
  const codes = findAll(text, ERROR_CODE_PATTERNS, upper);
  let offset = 0;
  for (const sentence of text.split(/(?<=[.!?\n])/)) {
    if (ERROR_SENTENCE.test(sentence))
      for (const m of sentence.matchAll(LOWER_SNAKE))
        codes.push({ at: offset + m.index, value: upper(m[1]!) });
    offset += sentence.length;
  }
  // "error code 404" is an HTTP status: one spelling only.
  return inOrder([...http, ...codes], (v) => !/^[45]\d\d$/.test(v));
}

/**
 * Entities a human agent needs from a customer's text, normalised (ids upper-case except case-sensitive
 * Stripe ids, e-mails lower-case, HTTP statuses as "HTTP 502", versions without "v"), deduplicated, at most
 * 10 per key. Only keys with at least one entity are present.
 */
export function extractEntities(text: string): Record<string, string[]> {
  const found: Record<EntityKey, string[]> = {
    productAreas: productAreasIn(text),
    versions: inOrder(findAll(text, VERSION_PATTERNS, asIs)),
    customerIds: inOrder([
      ...findAll(text, CUSTOMER_ID_PATTERNS, upper),
      ...findAll(text, [STRIPE_CUSTOMER_ID], asIs),
    ]),
    emails: inOrder(findAll(text, [EMAIL], lower)),
    orderIds: inOrder(findAll(text, ORDER_ID_PATTERNS, upper), (v) => !FULL_DATE.test(v)),
    invoiceIds: inOrder(findAll(text, INVOICE_ID_PATTERNS, upper), (v) => !FULL_DATE.test(v)),
    errorCodes: errorCodesIn(text),
  };
  const entities: Record<string, string[]> = {};
  for (const key of ENTITY_KEYS) {
    const values = found[key].slice(0, MAX_PER_KEY);
    if (values.length) entities[key] = values;
  }
  return entities;
}

// Signals: facts about the escalation that the priority rules read. Text signals are phrase patterns an
// operator can read; angry and urgent come from the sentiment reading, human_requested from the reason.

/** Sentiment at or below this counts as angry. */
export const ANGRY_SENTIMENT = -0.3;
/** Urgency at or above this counts as urgent. */
export const URGENT_URGENCY = 0.5;

const DATA_NOUNS =
  '(?:data|dashboards?|reports?|history|datasets?|rows|records|work|files?|changes|widgets?|(?:calculated )?fields?|comments?|projects?|workspace)';
const NOT_A_FIGURE = '(?!\\s*(?:to\\b|from\\b|by\\b|\\d))';

type TextSignal = 'outage' | 'security' | 'data_loss' | 'payment_failure' | 'legal';

const TEXT_SIGNALS: Record<TextSignal, readonly RegExp[]> = {
  outage: [
    /\boutages?\b|\bdown\s?time\b/,
    // "is down", "has been down", "is the API down?" but not "revenue is down 20 %".
    new RegExp(
      `\\b(?:is|are|was|were|been|went|goes|going|it's|'s|'re)\\s+(?:[\\w-]+\\s+){0,3}?(?:completely\\s+|totally\\s+|still\\s+|fully\\s+|all\\s+)?down\\b${NOT_A_FIGURE}`,
    ),
    new RegExp(`\\b(?:production|prod|site|service|platform|everything)\\s+down\\b${NOT_A_FIGURE}`),
    /\b(?:not|isn't|is not|nothing(?: is)?|won't|doesn't)\s+(?:loading|working|load|work)\s+for\s+(?:anyone|anybody|everyone|everybody|all|any of us|the whole|our whole|our entire)\b/,
    /\b(?:nobody|no one|noone|none of (?:us|our \w+))\s+(?:can|could|is able to)\b/,
    /\b(?:\d{2,}|all|every|everyone|whole|entire)\b[^.!?]{0,40}?\b(?:can't|cannot|can not|unable to)\s+(?:\w+\s+)?(?:work|log ?in|sign ?in|access|get in|use)\b/,
    /\b(?:all|every)\s+(?:requests?|calls?|pages?|endpoints?)\s+(?:return|returns|fail|fails|get|give|gives|time out)\b/,
    /\b(?:http\s*)?5\d\ds?\b[^.!?]{0,40}\b(?:everywhere|for everyone|for all|on every|on all|across)\b/,
  ],
  security: [
    /\bhack(?:ed|er|ers|ing)?\b|\bphish\w*|\baccount takeover\b|\bcompromised\b|\bvulnerabilit(?:y|ies)\b|\bsecurity (?:incident|breach|issue)\b/,
    /(?<!threshold |sla |limit |quota |alert )\bbreach(?:ed|es)?\b/,
    /(?<!memory )\bleak(?:ed|s|ing)?\b/,
    /\bunauthori[sz]ed\s+(?:access|log ?ins?|sign[\s-]?ins?|users?|person|people|party|parties|activity|changes?|admin)\b/,
    /\bdid(?:n't| not) authori[sz]e (?!(?:this |the |that |a )?(?:charge|payment|transaction|renewal|invoice))/,
    /\bsomeone\s+(?:else\s+)?(?:has\s+)?(?:logged|logging|signed|signing|got|accessed|is accessing|has access)\s*(?:in(?:to)?|on)?\s+(?:to\s+)?(?:my|our)\b/,
    /\bsuspicious\s+(?:log ?ins?|sign[\s-]?ins?|activity|access|users?)\b/,
    /\b(?:api keys?|tokens?|passwords?|secrets?|credentials?)\b[^.!?]{0,40}\b(?:public|exposed|posted|pushed|published|stolen|github)\b/,
    /\b(?:data|information|records|customer \w+|files?)\b[^.!?]{0,40}\b(?:exposed|leaked|stolen|shared (?:\w+ )?publicly|made public)\b/,
  ],
  data_loss: [
    /\bdata\s+loss\b/,
    new RegExp(`\\b(?:lost|lose|losing)\\s+(?:(?!access\\b)[\\w'-]+\\s+){0,4}?${DATA_NOUNS}\\b`),
    new RegExp(
      `\\b${DATA_NOUNS}\\b[^.!?]{0,30}?\\b(?:are|is|was|were|got|have been|has been|went)\\s+(?:all\\s+)?(?:gone|missing|deleted|wiped|erased|lost|empty|disappeared|vanished)\\b`,
    ),
    new RegExp(`\\b${DATA_NOUNS}\\s+(?:\\w+\\s+){0,3}?(?:disappeared|vanished)\\b`),
    new RegExp(
      `\\b(?:wiped|erased|deleted|purged|overwrote)\\s+(?:out\\s+)?(?:all\\s+)?(?:of\\s+)?(?:my|our|the|all)\\s+(?:[\\w-]+\\s+){0,2}?${DATA_NOUNS}\\b`,
    ),
    /\baccidentally\s+(?:deleted|removed|erased|overwrote|overwritten|wiped)\b/,
  ],
  payment_failure: [
    /\b(?:charged|billed)\s+(?:me\s+|us\s+)?(?:twice|double|two times|three times|\d+ times|multiple times)\b/,
    /\bdouble[\s-]?(?:charged|billed|charges?|billing)\b|\bduplicate\s+(?:charges?|payments?)\b|\bover[\s-]?(?:charged|billed|charging|billing)\b/,
    /\b(?:card|payment|transaction)s?\b[^.!?]{0,40}?\b(?:declined|rejected|bounced|refused|failed|failing|fails|didn't go through|did not go through|won't go through)\b/,
    /\b(?:failed|declined|rejected|bounced)\s+(?:card|payments?|charges?|transactions?)\b|\bcard_declined\b/,
    /\b(?:charged|billed)\b[^.!?]{0,30}\bafter\s+(?:i|we)\s+(?:had\s+)?cancel/,
    /\b(?:billed|charged|invoiced)\b[^.!?]{0,40}\binstead of\b/,
    /\b(?:can't|cannot|unable to)\s+pay\b/,
  ],
  legal: [
    /\b(?:lawyers?|attorneys?|solicitors?|legal action|lawsuit|sue|suing|litigation|small claims|ombudsman)\b/,
    /\bchargebacks?\b|\bdispute\b[^.!?]{0,30}\b(?:bank|card issuer|credit card company)\b/,
    /\b(?:gdpr|data protection|privacy)\b[^.!?]{0,40}\b(?:complaint|complain|violation)/,
    /\b(?:complaint|complain)\b[^.!?]{0,40}\b(?:data protection|supervisory authority|regulator|authority|ico|cnil)\b/,
  ],
};

/** The triage signals of an escalation, in TRIAGE_SIGNALS order. */
export function detectSignals(
  text: string,
  sentiment: SentimentReading,
  reason: EscalationReason,
): TriageSignal[] {
  const lowered = text.toLowerCase().replace(/[\u2018\u2019]/g, "'");
  const found = new Set<TriageSignal>();
  for (const [signal, patterns] of Object.entries(TEXT_SIGNALS) as [TextSignal, readonly RegExp[]][])
    if (patterns.some((p) => p.test(lowered))) found.add(signal);
  if (sentiment.sentiment <= ANGRY_SENTIMENT) found.add('angry');
  if (sentiment.urgency >= URGENT_URGENCY) found.add('urgent');
  if (reason === 'human_requested') found.add('human_requested');
  return TRIAGE_SIGNALS.filter((s) => found.has(s));
}

export interface TriageInput {
  readonly reason: EscalationReason;
  readonly intent: string;
  readonly productArea: string;
  readonly confidence: number;
  readonly sentiment: SentimentReading;
  readonly faqsTried: readonly Citation[];
  /** Customer messages of the conversation so far, PII masked, oldest first. */
  readonly transcript: readonly Pick<MessageRecord, 'role' | 'text'>[];
  /** @default the customer's tier when `customer` is given, else 'unknown' */
  readonly tier?: CustomerTier | 'unknown';
  /** The CRM's customer, copied into the handoff packet. */
  readonly customer?: CustomerProfile;
  /** @default DEFAULT_PRIORITY_RULES */
  readonly rules?: readonly PriorityRule[];
  /**
   * The customer's unmasked text, for entities and signals (masking hides e-mail addresses and ids).
   * @default the customer messages of `transcript`
   */
  readonly rawCustomerText?: string;
}

export interface Triage {
  readonly priority: Priority;
  /** The matched priority rule's `why`. */
  readonly priorityRule: string;
  readonly signals: TriageSignal[];
  readonly queue: string;
  readonly subject: string;
  readonly handoff: HandoffPacket;
}

const clip = (text: string, max: number) =>
  text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text;

export function triageEscalation(input: TriageInput): Triage {
  const customerLines = input.transcript.filter((m) => m.role === 'customer').map((m) => m.text);
  const last = customerLines[customerLines.length - 1] ?? '';
  const intentName = isIntent(input.intent) ? INTENT_NAMES[input.intent] : input.intent;
  const areaName = isProductArea(input.productArea)
    ? PRODUCT_AREA_NAMES[input.productArea]
    : input.productArea;
  const tier = input.tier ?? input.customer?.tier ?? 'unknown';
  const customerText = input.rawCustomerText ?? customerLines.join('\n');
  const signals = detectSignals(customerText, input.sentiment, input.reason);
  const decided = decidePriority(
    { signals, tier, intent: input.intent, reason: input.reason },
    input.rules ?? DEFAULT_PRIORITY_RULES,
  );
  const summary = [
    `${intentName} about ${areaName}; escalated: ${input.reason.replace(/_/g, ' ')}.`,
    customerLines.length > 1 ? `First message: "${clip(customerLines[0]!, 200)}"` : '',
    `Latest message: "${clip(last, 300)}"`,
    `${customerLines.length} customer message(s); bot confidence ${Math.round(input.confidence * 100)} %.`,
  ]
    .filter(Boolean)
    .join(' ');
  const customer = input.customer;
  return {
    priority: decided.priority,
    priorityRule: decided.why,
    signals,
    queue: isIntent(input.intent) ? QUEUE_BY_INTENT[input.intent] : 'general',
    subject: clip(last.replace(/\s+/g, ' '), 90) || intentName,
    handoff: {
      summary,
      intent: input.intent,
      productArea: input.productArea,
      confidence: input.confidence,
      reason: input.reason,
      sentiment: input.sentiment.sentiment,
      urgency: input.sentiment.urgency,
      faqsTried: input.faqsTried,
      entities: extractEntities(customerText),
      signals,
      priorityReason: decided.why,
      tier,
      ...(customer ? { customer: handoffCustomer(customer) } : {}),
    },
  };
}

/** The customer as the handoff packet shows them. */
export function handoffCustomer(customer: CustomerProfile): NonNullable<HandoffPacket['customer']> {
  return {
    customerId: customer.customerId,
    name: customer.name,
    email: customer.email,
    tier: customer.tier,
    ...(customer.company ? { company: customer.company } : {}),
  };
}

export function escalationMessage(reason: EscalationReason, caseId: string): string {
  const opening =
    reason === 'human_requested'
      ? 'Of course. I am connecting you with a member of our support team.'
      : reason === 'negative_sentiment_urgent'
        ? 'I am sorry about this. I have flagged it as urgent for our support team.'
        : 'I want to get this right, so I am passing your question to a member of our support team.';
  return `${opening} Your case number is ${caseId}. They will reply right here, and you can keep adding details meanwhile.`;
}
