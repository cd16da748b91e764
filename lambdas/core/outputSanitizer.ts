/**
 * Last check on every composed answer before a customer sees it (after the model, whichever it was):
 *   - HTML goes: script/style/iframe/object/svg… elements with their content (an unclosed one takes the
 *     rest of the text with it, as a browser would), other tags of real HTML
 *     elements, comments, on*= handlers, javascript:/vbscript:/data:text/html URLs. The Markdown the chat
 *     renders stays: **bold**, lists, `code`, and [text](https://…) links (other link targets keep the text).
 *     Code spans keep their text (the chat shows them literally), e.g. "put it in an `<iframe>`".
 *   - Lines that reproduce the system prompt (word 5-gram overlap) or announce it are dropped.
 *   - E-mail addresses, phone, card, IBAN and SSN numbers that are not allowed (not in the grounding
 *     passages, not the customer's own) are masked with the piiMasking placeholders.
 * Pure: imports only the PII masker.
 */
import { maskPii, PII_PLACEHOLDERS, type PiiKind } from './piiMasking';

export interface SanitizeOptions {
  /** The prompt the model was given; lines reproducing it are removed. */
  readonly systemPrompt?: string;
  /**
   * Identifiers that may appear: the company's own addresses and numbers from the grounding passages and
   * the customer's own. Compared case-insensitively (e-mails) or by digits (numbers).
   */
  readonly allowedIdentifiers?: readonly string[];
}

export interface SanitizedReply {
  readonly text: string;
  /** What was removed or masked, e.g. ['html', 'script', 'pii:email']; empty when the text is unchanged. */
  readonly changed: string[];
}

/** Elements removed together with their content. */
const CONTAINERS =
  'script|style|iframe|object|applet|noscript|noembed|noframes|template|svg|math|textarea|title|xmp|frameset|select';
const CONTAINER_ELEMENT = new RegExp(
  String.raw`<\s*(${CONTAINERS})\b[^>]*>[\s\S]*?(?:<\s*\/\s*\1\s*>|$)`,
  'gi',
);

/** Real HTML (and SVG/MathML) element names: tags of these are removed; "<timestamp>" or "<your key>" stay. */
const ELEMENTS =
  'a|abbr|acronym|address|animate|animatemotion|animatetransform|applet|area|article|aside|audio|b|base|basefont|bdi|bdo|bgsound|big|blink|blockquote|body|br|button|canvas|caption|center|cite|code|col|colgroup|data|datalist|dd|del|details|dfn|dialog|dir|div|dl|dt|em|embed|fieldset|figcaption|figure|font|footer|foreignobject|form|frame|frameset|h[1-6]|head|header|hgroup|hr|html|i|iframe|image|img|input|ins|isindex|kbd|keygen|label|layer|legend|li|link|listing|main|map|mark|marquee|math|menu|menuitem|meta|meter|multicol|nav|nobr|noembed|noframes|noscript|object|ol|optgroup|option|output|p|param|picture|plaintext|portal|pre|progress|q|rp|rt|ruby|s|samp|script|search|section|select|set|slot|small|source|spacer|span|strike|strong|style|sub|summary|sup|svg|table|tbody|td|template|textarea|tfoot|th|thead|time|title|tr|track|tt|u|ul|use|var|video|wbr|xml|xmp|xss';
const ELEMENT_TAG = new RegExp(String.raw`<\s*\/?\s*(?:${ELEMENTS})(?=[\s/>]|$)[^<>]*>?`, 'gi');
/** Any other tag that carries attributes (`<x-widget data-x="1">`, `<foo onclick=…>`). */
const TAG_WITH_ATTRIBUTES = /<\s*\/?\s*[a-z][\w:-]*\s+[^<>]*=[^<>]*>/gi;
/** Custom elements have a hyphen in their name. */
const CUSTOM_ELEMENT_TAG = /<\s*\/?\s*[a-z][\w]*-[\w-]*(?:\s[^<>]*)?>/gi;
const COMMENT = /<!--[\s\S]*?(?:-->|$)|<!\[CDATA\[[\s\S]*?(?:\]\]>|$)|<![a-z][^>]*>|<\?[\s\S]*?(?:\?>|$)/gi;
const EVENT_HANDLER =
  /\bon(?:abort|afterprint|animation\w*|auxclick|before\w*|begin|blur|bounce|cancel|canplay\w*|change|click|close|contextmenu|copy|cuechange|cut|dblclick|drag\w*|drop|durationchange|emptied|end|ended|error|finish|focus\w*|formdata|hashchange|input|invalid|key\w+|load\w*|message\w*|mouse\w+|offline|online|page\w+|paste|pause|play\w*|pointer\w+|popstate|progress|ratechange|repeat|reset|resize|scroll\w*|search|seek\w*|select\w*|show|stalled|start|storage|submit|suspend|timeupdate|toggle|touch\w+|transition\w*|unload|volumechange|waiting|wheel)\s*=\s*(?:"[^"]*"|'[^']*'|`[^`]*`|[^\s>]+)/gi;
/** A script URL is the scheme glued to its payload ("javascript:alert(1)"); "JavaScript: npm i" is prose. */
const SCRIPT_URL =
  /\b(?:java|vb|live)[\t ]*script[\t ]*:(?![\s*])[^\s"'>]*|\bdata[\t ]*:[\t ]*(?:text\/html|image\/svg\+xml|application\/(?:x-)?javascript)[^\s"'>]*/gi;
/** A `<` left in front of a dangerous name after the passes above (e.g. "<scr<script>ipt>"). */
const DANGLING_OPENER = new RegExp(
  String.raw`<(?=\s*\/?\s*(?:${CONTAINERS}|img|image|embed|link|meta|base|a|form|input|body|html|video|audio|source|details|marquee)\b)`,
  'gi',
);
const MARKDOWN_IMAGE = /!\[([^\]\n]*)\]\(\s*([^)\s]*)[^)\n]*\)/g;
const MARKDOWN_LINK = /\[([^\]\n]+)\]\(\s*([^)\s]*)[^)\n]*\)/g;
const HTTP_URL = /^https?:\/\/[^\s<>"']+$/i;

/** Fenced blocks and inline code: shown literally by the chat, so only script/style are taken out. */
const CODE = /```[\s\S]*?```|`[^`\n]+`/g;
const SCRIPT_ONLY =
  /<\s*(script|style)\b[^>]*>[\s\S]*?(?:<\s*\/\s*\1\s*>|$)|<\s*\/?\s*(?:script|style)\b[^>]*>?/gi;

const PROMPT_ANNOUNCEMENT =
  /\b(?:system prompt|system message|my (?:initial |original |hidden |system )?(?:instructions|prompt) (?:is|are|say|says|read)|here (?:is|are) (?:my|the) (?:system prompt|instructions|initial prompt)|i (?:was|am|have been) (?:instructed|programmed|told) to)\b/i;

const MASKED_KINDS: ReadonlySet<PiiKind> = new Set(['email', 'phone', 'card', 'iban', 'ssn']);
const NGRAM = 5;

export function sanitizeReply(text: string, options: SanitizeOptions = {}): SanitizedReply {
  const changed = new Set<string>();
  let out = stripMarkup(text, changed);
  if (options.systemPrompt) out = dropPromptLines(out, options.systemPrompt, changed);
  out = maskForeignIdentifiers(out, options.allowedIdentifiers ?? [], changed);
  out = out.replace(/\n{3,}/g, '\n\n').trim();
  return { text: out, changed: [...changed] };
}

function stripMarkup(text: string, changed: Set<string>): string {
  // Code spans are set aside (placeholders cannot occur in text: they use a private-use character).
  const code: string[] = [];
  let prose = text.replace(CODE, (span) => {
    const cleaned = span.replace(SCRIPT_ONLY, '');
    if (cleaned !== span) changed.add('script');
    code.push(cleaned);
    return `\uE000${code.length - 1}\uE001`;
  });
  const apply = (pattern: RegExp, label: string, replacement: string | ((...m: string[]) => string) = '') => {
    const next = prose.replace(pattern, replacement as never);
    if (next !== prose) changed.add(label);
    prose = next;
  };
  // Links first, so a script URL inside one takes only the link, not the text after it.
  apply(MARKDOWN_IMAGE, 'link', (_m, alt) => alt ?? '');
  apply(MARKDOWN_LINK, 'link', (whole, label, url) => (HTTP_URL.test(url ?? '') ? whole : (label ?? '')));
  // Repeat until stable: removing one tag can join the pieces of another ("<scr<script>ipt>").
  for (let round = 0; round < 5; round++) {
    const before = prose;
    apply(COMMENT, 'html');
    apply(CONTAINER_ELEMENT, 'script');
    apply(ELEMENT_TAG, 'html');
    apply(TAG_WITH_ATTRIBUTES, 'html');
    apply(CUSTOM_ELEMENT_TAG, 'html');
    apply(EVENT_HANDLER, 'event-handler');
    apply(SCRIPT_URL, 'unsafe-url');
    if (prose === before) break;
  }
  apply(DANGLING_OPENER, 'html');
  // Removed markup leaves doubled spaces between words (indentation at line starts is kept).
  if (changed.size > 0) prose = prose.replace(/(\S)[ \t]{2,}(?=\S)/g, '$1 ');
  return prose.replace(/\uE000(\d+)\uE001/g, (_m, index: string) => code[Number(index)] ?? '');
}

const words = (text: string): string[] => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

function ngrams(tokens: readonly string[], n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i + n <= tokens.length; i++) out.push(tokens.slice(i, i + n).join(' '));
  return out;
}

/** Drops lines that repeat the system prompt: any shared 5-gram in a short line, or several in a long one. */
function dropPromptLines(text: string, systemPrompt: string, changed: Set<string>): string {
  const promptGrams = new Set(ngrams(words(systemPrompt), NGRAM));
  const kept = text.split('\n').filter((line) => {
    const grams = ngrams(words(line), NGRAM);
    const shared = grams.filter((g) => promptGrams.has(g)).length;
    const leaks =
      PROMPT_ANNOUNCEMENT.test(line) || shared >= 3 || (shared > 0 && shared / grams.length >= 0.3);
    if (leaks) changed.add('system-prompt');
    return !leaks;
  });
  return kept.join('\n');
}

const identifierKey = (kind: PiiKind, value: string): string =>
  kind === 'email' ? value.toLowerCase() : value.replace(/\D/g, '') || value.toLowerCase();

function maskForeignIdentifiers(text: string, allowed: readonly string[], changed: Set<string>): string {
  const { found } = maskPii(text);
  const foreign = found.filter((f) => MASKED_KINDS.has(f.kind));
  if (foreign.length === 0) return text;
  const allowedKeys = new Set<string>();
  for (const value of allowed) {
    const inner = maskPii(value).found;
    if (inner.length === 0) allowedKeys.add(value.toLowerCase());
    for (const f of inner) allowedKeys.add(identifierKey(f.kind, value.slice(f.start, f.end)));
  }
  let out = '';
  let cursor = 0;
  for (const f of foreign) {
    const value = text.slice(f.start, f.end);
    if (allowedKeys.has(identifierKey(f.kind, value))) continue;
    out += text.slice(cursor, f.start) + PII_PLACEHOLDERS[f.kind];
    cursor = f.end;
    changed.add(`pii:${f.kind}`);
  }
  return out + text.slice(cursor);
}
