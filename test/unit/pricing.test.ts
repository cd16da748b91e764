import { describe, expect, it } from 'vitest';
import { costUsd, estimateTokens, MODEL_PRICES, PRICE_TABLE_VERSION } from '#core/pricing';

describe('pricing', () => {
  it('prices every model the stack can route to, with local free', () => {
    // Prepare
    const routable = [
      'anthropic.claude-3-haiku-20240307-v1:0',
      'anthropic.claude-3-5-haiku-20241022-v1:0',
      'anthropic.claude-3-5-sonnet-20241022-v2:0',
      'anthropic.claude-sonnet-4-20250514-v1:0',
      'amazon.nova-micro-v1:0',
      'amazon.nova-lite-v1:0',
      'amazon.titan-embed-text-v2:0',
    ];

    // Act
    const costs = routable.map((id) => costUsd(id, 1000, 1000));

    // Assess
    expect(PRICE_TABLE_VERSION).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(costs.every((c) => c > 0)).toBe(true);
    expect(costUsd('local', 50_000, 50_000)).toBe(0);
    expect(Object.keys(MODEL_PRICES)).toEqual(expect.arrayContaining([...routable, 'local']));
  });

  it('charges input and output tokens at their per-1K rates', () => {
    // Prepare
    const haiku = 'anthropic.claude-3-haiku-20240307-v1:0';

    // Act
    const cost = costUsd(haiku, 2000, 400);

    // Assess: 2 × $0.00025 + 0.4 × $0.00125
    expect(cost).toBeCloseTo(0.001, 10);
  });

  it('bills a cross-region inference profile like its base model', () => {
    // Prepare
    const base = 'anthropic.claude-sonnet-4-20250514-v1:0';

    // Act
    const us = costUsd(`us.${base}`, 1000, 1000);
    const eu = costUsd(`eu.${base}`, 1000, 1000);

    // Assess
    expect(us).toBe(costUsd(base, 1000, 1000));
    expect(eu).toBe(us);
  });

  it('refuses to price an unknown model and names it', () => {
    // Prepare
    const unknown = 'meta.llama3-70b-instruct-v1:0';

    // Act
    const price = () => costUsd(unknown, 10, 10);

    // Assess
    expect(price).toThrow(/meta\.llama3-70b-instruct-v1:0/);
  });

  it('rejects negative token counts', () => {
    // Act
    const price = () => costUsd('local', -1, 0);

    // Assess
    expect(price).toThrow(/non-negative/);
  });

  it('estimates about one token per four characters, rounding up', () => {
    // Act
    const estimates = [estimateTokens(''), estimateTokens('abc'), estimateTokens('a'.repeat(400))];

    // Assess
    expect(estimates).toEqual([0, 1, 100]);
  });
});
