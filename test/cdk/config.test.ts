import { describe, expect, it } from 'vitest';
import { ConfigError, configFromContext, OFFLINE_ENV, parseConfig } from '../../lib/config';
import { CDK_JSON_CONFIG } from './synthApp';

const messageOf = (work: () => unknown): string => {
  try {
    work();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be rejected');
};

describe('configuration', () => {
  it('accepts the cdk.json defaults and fills account and region for offline synth', () => {
    // Act
    const config = parseConfig({ context: CDK_JSON_CONFIG, env: {} });

    // Assess
    expect(config).toMatchObject({
      account: OFFLINE_ENV.account,
      region: OFFLINE_ENV.region,
      confidenceThreshold: 0.65,
      searchBackend: 'embedded',
      stackPrefix: 'SupportMax',
      maxInputTokensPerQuery: 3000,
      auditRetentionDays: 2557,
    });
    expect(config.alarmEmail).toBeUndefined();
    expect(config.email).toBeUndefined();
    expect(config.customerTokenSecretName).toBeUndefined();
  });

  it('takes account and region from CDK_DEFAULT_* when the context leaves them unset', () => {
    // Act
    const config = parseConfig({
      context: CDK_JSON_CONFIG,
      env: { CDK_DEFAULT_ACCOUNT: '210987654321', CDK_DEFAULT_REGION: 'us-west-2' },
    });

    // Assess
    expect(config.account).toBe('210987654321');
    expect(config.region).toBe('us-west-2');
  });

  it('lets -c supportmax.<key> overrides win and coerces their strings', () => {
    // Prepare
    const context: Record<string, unknown> = {
      supportmax: CDK_JSON_CONFIG,
      'supportmax.confidenceThreshold': '0.8',
      'supportmax.searchBackend': 'opensearch',
    };

    // Act
    const config = configFromContext((key) => context[key], {});

    // Assess
    expect(config.confidenceThreshold).toBe(0.8);
    expect(config.searchBackend).toBe('opensearch');
  });

  it('names the key and the rule when the region is not an AWS region', () => {
    // Act
    const message = messageOf(() =>
      parseConfig({ context: { ...CDK_JSON_CONFIG, region: 'Frankfurt' }, env: {} }),
    );

    // Assess
    expect(message).toContain('Invalid SupportMax configuration');
    expect(message).toContain('region: must be an AWS region code such as us-east-1');
  });

  it('rejects a confidence threshold outside [0, 1], listing every invalid key at once', () => {
    // Act
    const error = (() => {
      try {
        parseConfig({
          context: { ...CDK_JSON_CONFIG, confidenceThreshold: 1.5, alarmEmail: 'ops-at-example' },
          env: {},
        });
      } catch (caught) {
        return caught;
      }
    })();

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('confidenceThreshold: must be between 0 and 1');
    expect((error as Error).message).toContain('alarmEmail: must be an e-mail address');
  });

  it('refuses a model the price table cannot meter, and unknown keys', () => {
    // Act
    const unpriced = messageOf(() =>
      parseConfig({
        context: { ...CDK_JSON_CONFIG, bedrockSimpleModelId: 'meta.llama3-70b-instruct-v1:0' },
        env: {},
      }),
    );
    const typo = messageOf(() =>
      parseConfig({ context: { ...CDK_JSON_CONFIG, confidenceTreshold: 0.5 }, env: {} }),
    );

    // Assess
    expect(unpriced).toContain('bedrockSimpleModelId: has no price in lambdas/core/pricing.ts');
    expect(typo).toContain('unknown key "confidenceTreshold"');
  });

  it('refuses an inference profile of another geography than the region', () => {
    // Act
    const message = messageOf(() =>
      parseConfig({ context: { ...CDK_JSON_CONFIG, region: 'eu-central-1' }, env: {} }),
    );

    // Assess
    expect(message).toContain(
      'bedrockSimpleModelId: inference profile "us." cannot be used from eu-central-1',
    );
  });

  it('defaults to the built-in CRM and reads the deprecated salesforceSecretName as the Salesforce backend', () => {
    // Act
    const defaults = parseConfig({ context: CDK_JSON_CONFIG, env: {} });
    const legacy = parseConfig({
      context: { ...CDK_JSON_CONFIG, salesforceSecretName: 'supportmax/salesforce' },
      env: {},
    });

    // Assess
    expect(defaults.crm).toEqual({ backend: 'builtin' });
    expect(legacy.crm).toEqual({ backend: 'salesforce', salesforceSecretName: 'supportmax/salesforce' });
    expect(legacy).not.toHaveProperty('salesforceSecretName');
  });

  it('refuses the Salesforce backend without its secret, and a deprecated secret contradicting crm', () => {
    // Act
    const missing = messageOf(() =>
      parseConfig({ context: { ...CDK_JSON_CONFIG, crm: { backend: 'salesforce' } }, env: {} }),
    );
    const contradiction = messageOf(() =>
      parseConfig({
        context: { ...CDK_JSON_CONFIG, crm: { backend: 'builtin' }, salesforceSecretName: 'sf' },
        env: {},
      }),
    );
    const unknownBackend = messageOf(() =>
      parseConfig({ context: { ...CDK_JSON_CONFIG, crm: { backend: 'hubspot' } }, env: {} }),
    );
    const unusedSecret = messageOf(() =>
      parseConfig({
        context: { ...CDK_JSON_CONFIG, crm: { backend: 'builtin', salesforceSecretName: 'sf' } },
        env: {},
      }),
    );

    // Assess
    expect(missing).toContain('crm.salesforceSecretName: is required when crm.backend is "salesforce"');
    expect(contradiction).toContain('salesforceSecretName: means crm.backend "salesforce"');
    expect(unknownBackend).toContain("crm.backend: Invalid enum value. Expected 'builtin' | 'salesforce'");
    expect(unusedSecret).toContain('crm.salesforceSecretName: is only used with crm.backend "salesforce"');
  });

  it('validates triage rules with the runtime parser and names the problem', () => {
    // Prepare
    const triage = (value: unknown) => () =>
      parseConfig({ context: { ...CDK_JSON_CONFIG, triage: value }, env: {} });

    // Act
    const notJson = messageOf(triage('{"rules": [oops]}'));
    const rulesNotJson = messageOf(triage({ rules: '[{"when": {}, "priority": "P1",' }));
    const badTier = messageOf(
      triage({
        rules: [
          { when: { tiers: ['gold'] }, priority: 'P1', why: 'Gold customers' },
          { when: {}, priority: 'P4', why: 'Others' },
        ],
      }),
    );
    const noCatchAll = messageOf(
      triage({ rules: [{ when: { signals: ['security'] }, priority: 'P1', why: 'Security' }] }),
    );
    const badSla = messageOf(triage({ slaFirstResponseMinutes: { P1: { enterprise: -5 } } }));
    const badScale = messageOf(triage({ slaTimeScale: 0 }));

    // Assess
    expect(notJson).toContain('triage: is not valid JSON');
    expect(notJson).not.toContain('Unrecognized key');
    expect(rulesNotJson).toContain('triage.rules is not valid JSON');
    expect(badTier).toContain(
      'triage.rules is not a valid priority rule table: triage.rules[0].when.tiers[0]',
    );
    expect(noCatchAll).toContain('triage.rules[0]: the last rule must be a catch-all');
    expect(badSla).toContain('triage.slaFirstResponseMinutes.P1.enterprise');
    expect(badScale).toContain('triage.slaTimeScale: must be > 0');
  });

  it('accepts a rule table and SLA overrides as objects or as JSON text', () => {
    // Prepare
    const rules = [
      { when: { signals: ['outage'] }, priority: 'P1', why: 'Outage' },
      { when: {}, priority: 'P3', why: 'Anything else' },
    ];

    // Act
    const fromObject = parseConfig({
      context: { ...CDK_JSON_CONFIG, triage: { rules, slaTimeScale: '0.5' } },
      env: {},
    });
    const fromText = parseConfig({
      context: {
        ...CDK_JSON_CONFIG,
        triage: JSON.stringify({
          rules: JSON.stringify(rules),
          slaFirstResponseMinutes: '{"P1":{"pro":10}}',
        }),
      },
      env: {},
    });

    // Assess
    expect(fromObject.triage).toEqual({ rules, slaTimeScale: 0.5 });
    expect(fromText.triage).toEqual({ rules, slaFirstResponseMinutes: { P1: { pro: 10 } } });
  });

  it('needs a sender and team addresses together, for known queues only', () => {
    // Prepare
    const notifications = (value: unknown) => () =>
      parseConfig({ context: { ...CDK_JSON_CONFIG, notifications: value }, env: {} });

    // Act
    const noRecipients = messageOf(notifications({ fromAddress: 'support@example.com' }));
    const noSender = messageOf(notifications({ queueEmails: { billing: 'billing@example.com' } }));
    const unknownQueue = messageOf(
      notifications({ fromAddress: 'support@example.com', queueEmails: { billling: 'b@example.com' } }),
    );
    const plainHttp = messageOf(
      notifications({
        fromAddress: 'support@example.com',
        queueEmails: { '*': 'team@example.com' },
        consoleUrl: 'http://support.example.com',
      }),
    );

    // Assess
    expect(noRecipients).toContain('notifications.queueEmails: is required with notifications.fromAddress');
    expect(noSender).toContain('notifications.fromAddress: is required with notifications.queueEmails');
    expect(unknownQueue).toContain('notifications.queueEmails.billling');
    expect(plainHttp).toContain('notifications.consoleUrl: must be an https:// URL');
  });

  it('takes single nested settings from -c supportmax.<key>.<subkey>, over the context object', () => {
    // Prepare
    const context: Record<string, unknown> = {
      supportmax: { ...CDK_JSON_CONFIG, triage: { slaTimeScale: 0.5 } },
      'supportmax.crm.backend': 'salesforce',
      'supportmax.crm.salesforceSecretName': 'supportmax/salesforce',
      'supportmax.triage.slaFirstResponseMinutes': '{"P2":{"basic":60}}',
    };

    // Act
    const config = configFromContext((key) => context[key], {});

    // Assess
    expect(config.crm).toEqual({ backend: 'salesforce', salesforceSecretName: 'supportmax/salesforce' });
    expect(config.triage).toEqual({ slaTimeScale: 0.5, slaFirstResponseMinutes: { P2: { basic: 60 } } });
  });

  it('derives the support address from the e-mail domain and the domain from the address', () => {
    // Act
    const fromDomain = parseConfig({
      context: { ...CDK_JSON_CONFIG, email: { domain: 'Example.com' } },
      env: {},
    });
    const fromAddress = parseConfig({
      context: { ...CDK_JSON_CONFIG, email: '{"supportAddress":"help@support.example.org"}' },
      env: {},
    });

    // Assess
    expect(fromDomain.email).toEqual({
      domain: 'example.com',
      supportAddress: 'support@example.com',
      inboundRetentionDays: 90,
    });
    expect(fromAddress.email).toMatchObject({
      domain: 'support.example.org',
      supportAddress: 'help@support.example.org',
    });
  });

  it('refuses an e-mail channel without an address, or with an address outside its domain', () => {
    // Prepare
    const email = (value: unknown) => () =>
      parseConfig({ context: { ...CDK_JSON_CONFIG, email: value }, env: {} });

    // Act
    const empty = messageOf(email({}));
    const elsewhere = messageOf(email({ domain: 'example.com', supportAddress: 'help@example.org' }));
    const notADomain = messageOf(email({ domain: 'localhost' }));
    const unknownKey = messageOf(email({ domain: 'example.com', replyTo: 'x@example.com' }));

    // Assess
    expect(empty).toContain('email: needs domain or supportAddress');
    expect(elsewhere).toContain('email.supportAddress: must be an address of email.domain example.com');
    expect(notADomain).toContain('email.domain: must be a domain name');
    expect(unknownKey).toContain("Unrecognized key(s) in object: 'replyTo'");
  });

  it('validates the token budget, the audit retention and the customer-token secret name', () => {
    // Prepare
    const withKeys = (extra: Record<string, unknown>) => () =>
      parseConfig({ context: { ...CDK_JSON_CONFIG, ...extra }, env: {} });

    // Act
    const budget = parseConfig({
      context: { ...CDK_JSON_CONFIG, maxInputTokensPerQuery: '4000', auditRetentionDays: '365' },
      env: {},
    });
    const zeroBudget = messageOf(withKeys({ maxInputTokensPerQuery: 0 }));
    const fractionalBudget = messageOf(withKeys({ maxInputTokensPerQuery: 1.5 }));
    const noRetention = messageOf(withKeys({ auditRetentionDays: 0 }));
    const badSecret = messageOf(withKeys({ customerTokenSecretName: 'has spaces' }));

    // Assess
    expect(budget).toMatchObject({ maxInputTokensPerQuery: 4000, auditRetentionDays: 365 });
    expect(zeroBudget).toContain('maxInputTokensPerQuery: must be a positive number of tokens');
    expect(fractionalBudget).toContain('maxInputTokensPerQuery: must be a whole number of tokens');
    expect(noRetention).toContain('auditRetentionDays: must be at least 1 day');
    expect(badSecret).toContain('customerTokenSecretName: must be a Secrets Manager secret name');
  });

  it('takes single e-mail settings from -c supportmax.email.<subkey>', () => {
    // Prepare
    const context: Record<string, unknown> = {
      supportmax: CDK_JSON_CONFIG,
      'supportmax.email.supportAddress': 'help@example.com',
      'supportmax.email.inboundRetentionDays': '30',
    };

    // Act
    const config = configFromContext((key) => context[key], {});

    // Assess
    expect(config.email).toEqual({
      domain: 'example.com',
      supportAddress: 'help@example.com',
      inboundRetentionDays: 30,
    });
  });
});
