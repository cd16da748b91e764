import { describe, expect, it } from 'vitest';
import { analyze, normalizeText } from '#core/textAnalysis';

describe('text analysis', () => {
  it('folds sign-in phrasings onto one login term', () => {
    // Prepare
    const phrasings = ['I cannot sign in', 'log-in fails', 'logging in is broken', 'signin error'];
    // Act
    const analysed = phrasings.map((p) => analyze(p));
    // Assess
    for (const terms of analysed) expect(terms).toContain('login');
  });

  it('maps two-factor and MFA wording onto the same term', () => {
    expect(analyze('set up two-factor authentication')).toContain('2fa');
    expect(analyze('MFA code not accepted')).toContain('2fa');
  });

  it('drops stop words but keeps them when asked (intent cues such as "how do i")', () => {
    expect(analyze('how do I export my data')).toEqual(['export', 'data']);
    expect(analyze('how do I export my data', { keepStopWords: true })).toEqual([
      'how',
      'do',
      'i',
      'export',
      'my',
      'data',
    ]);
  });

  it('stems inflections so "exports" and "exporting" match "export"', () => {
    expect(analyze('exports')).toEqual(analyze('exporting'));
  });

  it('removes accents and unifies apostrophes', () => {
    expect(normalizeText('Café’s')).toBe("cafe's");
  });
});
