/**
 * Deployment configuration, typed and validated once at the entry point (bin/app.ts). Sources, later wins:
 * defaults here < cdk.json context "supportmax" < `-c supportmax.<key>=value` < CDK_DEFAULT_ACCOUNT/REGION
 * (account and region only, when the context leaves them unset). Stacks receive plain typed values from it.
 */
import { z } from 'zod';
import { baseModelId, MODEL_PRICES } from '#core/pricing';

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
  modelTimeoutMs: z.coerce.number().int().min(500).max(25_000).default(8000),
  /** Automation rate (answered / all turns) below which the quality alarm fires after one hour. */
  automationTarget: z.coerce.number().min(0).max(1).default(0.6),
  /** Expected model spend per hour (USD); cost 20 % above it alarms. Unset: anomaly detection only. */
  hourlyCostBaselineUsd: z.coerce.number().positive('must be a positive amount in USD').optional(),
  /** E-mail subscribed to the alarm topic; none when unset. */
  alarmEmail: z.string().email('must be an e-mail address').optional(),
  /** Secrets Manager name of the Salesforce credentials the escalation stage may read; none when unset. */
  salesforceSecretName: z
    .string()
    .regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, 'must be a Secrets Manager secret name')
    .optional(),
});

export const configSchema = configObject.superRefine((config, ctx) => {
  for (const key of ['bedrockSimpleModelId', 'bedrockComplexModelId'] as const) {
    const geography = INFERENCE_PROFILE_PREFIX.exec(config[key])?.[1];
    if (geography && !PROFILE_REGIONS[geography]?.test(config.region)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: [key],
        message: `inference profile "${geography}." cannot be used from ${config.region}; pick the profile of that region's geography`,
      });
    }
  }
});

export type AppConfig = z.infer<typeof configObject>;

export class ConfigError extends Error {
  constructor(issues: readonly z.ZodIssue[]) {
    super(
      [
        'Invalid SupportMax configuration (cdk.json context "supportmax", or -c supportmax.<key>=<value>):',
        ...issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`),
      ].join('\n'),
    );
    this.name = 'ConfigError';
  }
}

const KEYS = Object.keys(configObject.shape) as (keyof AppConfig)[];

export interface ConfigSources {
  /** The "supportmax" context object (cdk.json). */
  readonly context?: unknown;
  /** Single-key overrides, e.g. from `-c supportmax.region=eu-west-1`. */
  readonly overrides?: Partial<Record<keyof AppConfig, unknown>>;
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
    if (value !== undefined) merged[key] = value;
  }
  for (const key of Object.keys(merged)) {
    if (!KEYS.includes(key as keyof AppConfig)) {
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

/** Reads the sources from a CDK app's context and the process environment. */
export function configFromContext(
  tryGetContext: (key: string) => unknown,
  env: Readonly<Record<string, string | undefined>> = process.env,
): AppConfig {
  const overrides = Object.fromEntries(KEYS.map((key) => [key, tryGetContext(`supportmax.${key}`)]));
  return parseConfig({ context: tryGetContext('supportmax'), overrides, env });
}
