/**
 * Display names and number formats shared by the chat, console and metrics pages. Codes mirror
 * lambdas/core/types.ts and escalationPolicy.ts; an unknown code is shown humanised rather than hidden.
 * Pure: no DOM.
 */

const INTENT_NAMES = {
  technical_issue: 'Technical issue',
  billing_question: 'Billing question',
  feature_request: 'Feature request',
  account_management: 'Account management',
  general_inquiry: 'General inquiry',
};

const PRODUCT_AREA_NAMES = {
  authentication_sso: 'Authentication & SSO',
  billing_subscriptions: 'Billing & subscriptions',
  dashboards_reporting: 'Dashboards & reporting',
  api_integrations: 'API & integrations',
  mobile_app: 'Mobile app',
  notifications: 'Notifications',
  data_import_export: 'Data import & export',
  users_teams: 'Users & teams',
  search: 'Search',
  performance_reliability: 'Performance & reliability',
};

const ESCALATION_REASON_NAMES = {
  human_requested: 'Asked for a human',
  negative_sentiment_urgent: 'Upset and urgent',
  low_confidence: 'Low confidence',
  out_of_scope: 'Out of scope',
  answer_unavailable: 'No answer in knowledge base',
};

export function humanize(code) {
  if (code === undefined || code === null || code === '') return 'Unknown';
  const words = String(code)
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[\s_-]+/)
    .filter(Boolean)
    .map((w) => (/^[A-Z][a-z]+$/.test(w) ? w.toLowerCase() : w))
    .join(' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const lookup = (names) => (code) => (Object.hasOwn(names, code) ? names[code] : humanize(code));
export const intentLabel = lookup(INTENT_NAMES);
export const productAreaLabel = lookup(PRODUCT_AREA_NAMES);
export const reasonLabel = lookup(ESCALATION_REASON_NAMES);

/** 'high' | 'medium' | 'low'; drives the badge colour, always shown next to the number. */
export function confidenceBand(confidence) {
  if (confidence >= 0.8) return 'high';
  if (confidence >= 0.6) return 'medium';
  return 'low';
}

export function formatPercent(ratio, digits = 0) {
  if (typeof ratio !== 'number' || !Number.isFinite(ratio)) return '–';
  return `${(ratio * 100).toFixed(digits)}%`;
}

/** "P1".."P4" from 1, "1", "p1" or "P1"; anything else is shown as given. */
export function priorityLabel(priority) {
  const match = /^p?([1-4])$/i.exec(String(priority ?? '').trim());
  return match ? `P${match[1]}` : String(priority ?? '–');
}

export function formatDuration(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return '–';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = seconds / 60;
  if (minutes < 60) return `${Math.round(minutes)} min`;
  const hours = minutes / 60;
  if (hours < 48) return `${hours.toFixed(hours < 10 ? 1 : 0)} h`;
  return `${Math.round(hours / 24)} d`;
}

/** Age of an ISO timestamp relative to `now` (ms), e.g. "4 min". */
export function formatAge(iso, now = Date.now()) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '–';
  return formatDuration(Math.max(0, (now - t) / 1000));
}

export function formatUsd(amount) {
  if (typeof amount !== 'number' || !Number.isFinite(amount)) return '–';
  const digits = amount !== 0 && Math.abs(amount) < 1 ? 4 : 2;
  return `$${amount.toFixed(digits)}`;
}

export function formatCount(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '–';
  return n.toLocaleString('en-US');
}

export function formatMs(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '–';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}
