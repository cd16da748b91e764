/**
 * Deployment configuration, typed and validated once at the entry point (bin/app.ts). Sources, later wins:
 * defaults here < cdk.json context "supportmax" < `-c supportmax.<key>=value` < CDK_DEFAULT_ACCOUNT/REGION
 * (account and region only, when the context leaves them unset). Stacks receive plain typed values from it.
 */
import { z } from 'zod';
import { ALL_QUEUES } from '#core/caseTriage';
import { baseModelId, MODEL_PRICES } from '#core/pricing';
import { type FirstResponseOverrides, parseSlaOverrides } from '#core/slaPolicy';
import { DEFAULT_MAX_INPUT_TOKENS } from '#core/tokenBudget';
import { type PriorityRule, parsePriorityRules } from '#core/triageRules';

/** Cross-region inference profile ids start with a geography ('us.', 'eu.', 'apac.', 'global.', …). */
export const INFERENCE_PROFILE_PREFIX = /^(us|us-gov|eu|apac|ca|jp|au|global)\./;

const modelId = z
  .string()
  .regex(
    /^[a-z0-9.-]+:\d+$/,
    'must look like a Bedrock model id, e.g. anthropic.claude-3-5-haiku-20241022-v1:0',
  )
  .refine((id) => MODEL_PRICES[baseModelId(id)] !== undefined, {
    message: 'has no price in lambdas/core/pricing.ts, so its cost could not be metered; add it there first',
  });

/** Regions a cross-region inference profile of each geography can be called from. */
const PROFILE_REGIONS: Record<string, RegExp> = {
  us: /^us-(?!gov)/,
  'us-gov': /^us-gov-/,
  eu: /^eu-/,
  apac: /^ap-/,
  jp: /^ap-northeast-/,
  au: /^ap-southeast-/,
  ca: /^ca-/,
  global: /./,
};

const secretName = z.string().regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, 'must be a Secrets Manager secret name');

/** Team queues cases are routed to (caseTriage), plus "*" for every queue without its own address. */
export const TEAM_QUEUES = [...new Set([...ALL_QUEUES, '*'])] as [string, ...string[]];

/**
 * Nested settings are objects in cdk.json and JSON strings on the command line
 * (`-c 'supportmax.crm={"backend":"salesforce",…}'`).
 */
const fromJson = (value: unknown, ctx: z.RefinementCtx): unknown => {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch (error) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: `is not valid JSON: ${(error as Error).message}`,
      fatal: true,
    });
    return z.NEVER;
  }
};

/** A table validated by the runtime's own parser, so synth refuses exactly what the functions would. */
const validatedBy = <T>(parse: (json: string, source: string) => T, source: string) =>
  z.unknown().transform((value, ctx): T => {
    try {
      return parse(typeof value === 'string' ? value : JSON.stringify(value), source);
    } catch (error) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: (error as Error).message });
      return z.NEVER;
    }
  });

const crmObject = z
  .object({
    /**
     * Where customers are looked up and cases mirrored: the customers table, or Salesforce.
     * Unset: Salesforce when a secret name is given, else the built-in CRM.
     */
    backend: z.enum(['builtin', 'salesforce']).optional(),
    /** Secrets Manager name of the Salesforce credentials; required with the salesforce backend. */
    salesforceSecretName: secretName.optional(),
  })
  .strict();

const triageObject = z
  .object({
    /** The priority rule table (lambdas/core/triageRules.ts); the default table when unset. */
    rules: validatedBy<PriorityRule[]>(parsePriorityRules, 'triage.rules').optional(),
    /** Cells of the first-response table (minutes by priority and tier) that replace the defaults. */
    slaFirstResponseMinutes: validatedBy<FirstResponseOverrides>(
      parseSlaOverrides,
      'triage.slaFirstResponseMinutes',
    ).optional(),
    /** Multiplies every SLA duration (0.01: 5 minutes become 3 s, for demos). */
    slaTimeScale: z.coerce.number().positive('must be > 0').max(1000, 'must be at most 1000').optional(),
  })
  .strict();

const notificationsObject = z
  .object({
    /** SES sender of team notifications (a verified address, or an address of a verified domain). */
    fromAddress: z.string().email('must be an e-mail address').optional(),
    /** Team address by queue; "*" for the others. */
    queueEmails: z.record(z.enum(TEAM_QUEUES), z.string().email('must be an e-mail address')).optional(),
    sesConfigurationSet: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be an SES configuration set name (letters, digits, _ and -)')
      .optional(),
    /** Operator console URL the e-mails link cases to. */
    consoleUrl: z
      .string()
      .url('must be a URL')
      .refine((url) => url.startsWith('https://'), 'must be an https:// URL')
      .optional(),
  })
  .strict();

const DOMAIN = /^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

const emailObject = z
  .object({
    /** Domain of the support address: the SES identity (DKIM) replies are sent from. @default its domain */
    domain: z.string().toLowerCase().regex(DOMAIN, 'must be a domain name such as example.com').optional(),
    /** The address customers write to (received by SES, answered from). @default support@<domain> */
    supportAddress: z.string().toLowerCase().email('must be an e-mail address').optional(),
    /** Display name of the replies. @default 'SupportMax' */
    senderName: z
      .string()
      .regex(/^[^"<>\r\n]{1,64}$/, 'must be 1-64 characters without quotes, angle brackets or line breaks')
      .optional(),
    /** Days raw inbound mail stays in the mail bucket. */
    inboundRetentionDays: z.coerce
      .number()
      .int()
      .min(1, 'must be at least 1 day')
      .max(3650, 'must be at most 3650 days')
      .default(90),
  })
  .strict();

/** Keys holding an object, and the keys of that object (for `-c supportmax.<key>.<subkey>=value`). */
const NESTED_KEYS = {
  crm: Object.keys(crmObject.shape),
  triage: Object.keys(triageObject.shape),
  notifications: Object.keys(notificationsObject.shape),
  email: Object.keys(emailObject.shape),
} as const;

const configObject = z.object({
  account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'),
  region: z
    .string()
    .regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, 'must be an AWS region code such as us-east-1'),
  /** Prefix of every stack name, so several installations can share an account. */
  stackPrefix: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,30}$/, 'must start with a letter: letters, digits and dashes, 31 max')
    .default('SupportMax'),
  bedrockSimpleModelId: modelId,
  bedrockComplexModelId: modelId,
  /** Calibrated confidence below which the bot escalates instead of answering. */
  confidenceThreshold: z.coerce
    .number()
    .min(0, 'must be between 0 and 1')
    .max(1, 'must be between 0 and 1')
    .default(0.65),
  /** Where retrieval runs: in the Lambda (embedded index in the engine layer) or on the OpenSearch collection. */
  searchBackend: z.enum(['embedded', 'opensearch']).default('embedded'),
  maxOutputTokens: z.coerce.number().int().min(50).max(4096).default(400),
  /** Prompt budget of one answer: history and FAQ context are trimmed to fit (lambdas/core/tokenBudget.ts). */
  maxInputTokensPerQuery: z.coerce
    .number()
    .int('must be a whole number of tokens')
    .positive('must be a positive number of tokens')
    .max(200_000, 'must be at most 200000 tokens')
    .default(DEFAULT_MAX_INPUT_TOKENS),
  modelTimeoutMs: z.coerce.number().int().min(500).max(25_000).default(8000),
  /** Automation rate (answered / all turns) below which the quality alarm fires after one hour. */
  automationTarget: z.coerce.number().min(0).max(1).default(0.6),
  /** Expected model spend per hour (USD); cost 20 % above it alarms. Unset: anomaly detection only. */
  hourlyCostBaselineUsd: z.coerce.number().positive('must be a positive amount in USD').optional(),
  /** E-mail subscribed to the alarm topic; none when unset. */
  alarmEmail: z.string().email('must be an e-mail address').optional(),
  /** The CRM of the escalation workflow and the case API. */
  crm: z.preprocess(fromJson, crmObject).optional(),
  /** Deprecated: `crm: { backend: 'salesforce', salesforceSecretName }`; still accepted as that. */
  salesforceSecretName: secretName.optional(),
  /** Escalation triage: priority rules and first-response SLA targets. */
  triage: z.preprocess(fromJson, triageObject).default({}),
  /** Team e-mails about new cases and SLA breaches (SES); logged only when unset. */
  notifications: z.preprocess(fromJson, notificationsObject).default({}),
  /** The e-mail channel (SES receiving and replies); no e-mail resources when unset. */
  email: z.preprocess(fromJson, emailObject).optional(),
  /** Days the audit archive's objects are locked (S3 object lock, compliance mode): 2557 = 7 years. */
  auditRetentionDays: z.coerce
    .number()
    .int('must be a whole number of days')
    .min(1, 'must be at least 1 day')
    .max(36_500, 'must be at most 36500 days (100 years)')
    .default(2557),
  /** Secrets Manager name of the HS256 secret that verifies customer tokens on $connect; none: anonymous only. */
  customerTokenSecretName: secretName.optional(),
});

export const configSchema = configObject
  .superRefine((config, ctx) => {
    const issue = (path: string[], message: string) =>
      ctx.addIssue({ code: z.ZodIssueCode.custom, path, message });
    for (const key of ['bedrockSimpleModelId', 'bedrockComplexModelId'] as const) {
      const geography = INFERENCE_PROFILE_PREFIX.exec(config[key])?.[1];
      if (geography && !PROFILE_REGIONS[geography]?.test(config.region)) {
        issue(
          [key],
          `inference profile "${geography}." cannot be used from ${config.region}; pick the profile of that region's geography`,
        );
      }
    }
    const { crm, salesforceSecretName: legacySecret } = config;
    if (legacySecret && crm?.backend === 'builtin') {
      issue(
        ['salesforceSecretName'],
        'means crm.backend "salesforce" (it is the deprecated form of crm.salesforceSecretName) but crm.backend is "builtin"; remove one of them',
      );
    }
    if (crm?.salesforceSecretName && crm.backend === 'builtin') {
      issue(['crm', 'salesforceSecretName'], 'is only used with crm.backend "salesforce", not "builtin"');
    }
    if (legacySecret && crm?.salesforceSecretName && crm.salesforceSecretName !== legacySecret) {
      issue(
        ['salesforceSecretName'],
        'differs from crm.salesforceSecretName; keep only crm.salesforceSecretName',
      );
    }
    if (crm?.backend === 'salesforce' && !crm.salesforceSecretName && !legacySecret) {
      issue(
        ['crm', 'salesforceSecretName'],
        'is required when crm.backend is "salesforce": the Secrets Manager name of the Salesforce credentials',
      );
    }
    const { fromAddress, queueEmails, sesConfigurationSet } = config.notifications;
    if (fromAddress && !queueEmails) {
      issue(
        ['notifications', 'queueEmails'],
        'is required with notifications.fromAddress: whom to e-mail per queue',
      );
    }
    if (!fromAddress && (queueEmails || sesConfigurationSet)) {
      issue(
        ['notifications', 'fromAddress'],
        'is required with notifications.queueEmails or sesConfigurationSet: the SES sender address',
      );
    }
    if (config.email) {
      const { domain, supportAddress } = config.email;
      if (!domain && !supportAddress) {
        issue(['email'], 'needs domain or supportAddress (or both): where customers write to');
      }
      if (domain && supportAddress && !supportAddress.endsWith(`@${domain}`)) {
        issue(['email', 'supportAddress'], `must be an address of email.domain ${domain}`);
      }
      if (!domain && supportAddress && !DOMAIN.test(supportAddress.split('@')[1] ?? '')) {
        issue(['email', 'supportAddress'], 'must be at a domain name SES can verify');
      }
    }
  })
  .transform(({ crm, salesforceSecretName: legacySecret, email, ...config }) => {
    const salesforceSecretName = crm?.salesforceSecretName ?? legacySecret;
    const backend = crm?.backend ?? (salesforceSecretName ? 'salesforce' : 'builtin');
    const resolved: CrmConfig =
      backend === 'salesforce' && salesforceSecretName
        ? { backend, salesforceSecretName }
        : { backend: 'builtin' };
    return { ...config, crm: resolved, ...(email ? { email: resolveEmail(email) } : {}) };
  });

/** The e-mail channel after validation: both the domain and the support address are known. */
export interface EmailConfig {
  readonly domain: string;
  readonly supportAddress: string;
  readonly senderName?: string;
  readonly inboundRetentionDays: number;
}

function resolveEmail(email: z.output<typeof emailObject>): EmailConfig {
  const domain = email.domain ?? email.supportAddress!.split('@')[1]!;
  return {
    domain,
    supportAddress: email.supportAddress ?? `support@${domain}`,
    ...(email.senderName ? { senderName: email.senderName } : {}),
    inboundRetentionDays: email.inboundRetentionDays,
  };
}

/** The CRM after validation: Salesforce always comes with its secret. */
export type CrmConfig =
  | { readonly backend: 'builtin' }
  | { readonly backend: 'salesforce'; readonly salesforceSecretName: string };

export type AppConfig = z.output<typeof configSchema>;
/** A configuration key: every key of AppConfig, plus the deprecated ones still accepted. */
export type ConfigKey = keyof typeof configObject.shape;

export class ConfigError extends Error {
  constructor(issues: readonly z.ZodIssue[]) {
    super(
      [
        'Invalid SupportMax configuration (cdk.json context "supportmax", or -c supportmax.<key>=<value>):',
        ...issues.map((i) => {
          const where = i.path.join('.') || '(root)';
          // Messages of the runtime's parsers name the field themselves ("triage.rules[2].when: …").
          return `  - ${i.message.startsWith(where) ? i.message : `${where}: ${i.message}`}`;
        }),
      ].join('\n'),
    );
    this.name = 'ConfigError';
  }
}

const KEYS = Object.keys(configObject.shape) as ConfigKey[];

export interface ConfigSources {
  /** The "supportmax" context object (cdk.json). */
  readonly context?: unknown;
  /** Single-key overrides, e.g. from `-c supportmax.region=eu-west-1`. */
  readonly overrides?: Partial<Record<ConfigKey, unknown>>;
  /** Process environment: CDK_DEFAULT_ACCOUNT / CDK_DEFAULT_REGION fill an unset account / region. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Defaults that let `cdk synth` run offline with no AWS profile; deploys set real values. */
export const OFFLINE_ENV = { account: '123456789012', region: 'us-east-1' } as const;

/** Validates the merged sources; throws ConfigError listing every invalid key. */
export function parseConfig({ context, overrides = {}, env = {} }: ConfigSources): AppConfig {
  if (context !== undefined && (typeof context !== 'object' || context === null || Array.isArray(context))) {
    throw new Error('Invalid SupportMax configuration: context "supportmax" must be an object');
  }
  const merged: Record<string, unknown> = { ...(context as Record<string, unknown> | undefined) };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    // An object override (from `-c supportmax.<key>.<subkey>`) changes only the sub-keys it names.
    merged[key] = isPlainObject(value) && isPlainObject(merged[key]) ? { ...merged[key], ...value } : value;
  }
  for (const key of Object.keys(merged)) {
    if (!KEYS.includes(key as ConfigKey)) {
      throw new Error(`Invalid SupportMax configuration: unknown key "${key}" (known: ${KEYS.join(', ')})`);
    }
    if (merged[key] === '' || merged[key] === null) delete merged[key];
  }
  merged.account ??= env.CDK_DEFAULT_ACCOUNT ?? OFFLINE_ENV.account;
  merged.region ??= env.CDK_DEFAULT_REGION ?? OFFLINE_ENV.region;
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) throw new ConfigError(parsed.error.issues);
  return parsed.data;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads the sources from a CDK app's context and the process environment. Object keys take
 * `-c supportmax.<key>=<JSON>` and single sub-keys, `-c supportmax.<key>.<subkey>=<value>` (which win).
 */
export function configFromContext(
  tryGetContext: (key: string) => unknown,
  env: Readonly<Record<string, string | undefined>> = process.env,
): AppConfig {
  const overrides: Partial<Record<ConfigKey, unknown>> = Object.fromEntries(
    KEYS.map((key) => [key, tryGetContext(`supportmax.${key}`)]),
  );
  for (const [key, subKeys] of Object.entries(NESTED_KEYS) as [keyof typeof NESTED_KEYS, string[]][]) {
    const single = Object.fromEntries(
      subKeys
        .map((sub) => [sub, tryGetContext(`supportmax.${key}.${sub}`)] as const)
        .filter(([, value]) => value !== undefined && value !== ''),
    );
    if (Object.keys(single).length === 0) continue;
    const whole = typeof overrides[key] === 'string' ? tryJson(overrides[key]) : overrides[key];
    overrides[key] = isPlainObject(whole) ? { ...whole, ...single } : whole === undefined ? single : whole;
  }
  return parseConfig({ context: tryGetContext('supportmax'), overrides, env });
}

/** The parsed JSON, or the text itself when it is not JSON (validation then reports it). */
function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
