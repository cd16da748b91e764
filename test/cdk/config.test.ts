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
    });
    expect(config.alarmEmail).toBeUndefined();
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
});
