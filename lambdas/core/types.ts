/** Support-domain vocabulary shared by every layer. Pure: imports nothing. */

export const INTENTS = [
  'technical_issue',
  'billing_question',
  'feature_request',
  'account_management',
  'general_inquiry',
] as const;
export type Intent = (typeof INTENTS)[number];

export const INTENT_NAMES: Record<Intent, string> = {
  technical_issue: 'Technical Issue',
  billing_question: 'Billing Question',
  feature_request: 'Feature Request',
  account_management: 'Account Management',
  general_inquiry: 'General Inquiry',
};

export const PRODUCT_AREAS = [
  'authentication_sso',
  'billing_subscriptions',
  'dashboards_reporting',
  'api_integrations',
  'mobile_app',
  'notifications',
  'data_import_export',
  'users_teams',
  'search',
  'performance_reliability',
] as const;
export type ProductArea = (typeof PRODUCT_AREAS)[number];

export const PRODUCT_AREA_NAMES: Record<ProductArea, string> = {
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

export const isIntent = (value: unknown): value is Intent => INTENTS.includes(value as Intent);
export const isProductArea = (value: unknown): value is ProductArea =>
  PRODUCT_AREAS.includes(value as ProductArea);

/** One curated knowledge-base entry. productArea/intent are optional so foreign KBs can be imported. */
export interface Faq {
  readonly id: string;
  readonly question: string;
  readonly alternates: readonly string[];
  readonly answer: string;
  readonly productArea?: string;
  readonly intent?: Intent;
  readonly tags: readonly string[];
  readonly updatedAt?: string;
}

/** A probability per class, summing to 1. */
export type Distribution<K extends string> = Record<K, number>;
