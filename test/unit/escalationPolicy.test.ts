import { describe, expect, it } from 'vitest';
import { readSentiment, requestsHuman } from '#core/customerSentiment';
import { EscalationPolicy } from '#core/escalationPolicy';

const calm = readSentiment('How do I export a dashboard to PDF?');
const policy = new EscalationPolicy({ confidenceThreshold: 0.6 });

describe('escalation policy', () => {
  it('escalates when confidence is below the threshold', () => {
    expect(
      policy.decide({ confidence: 0.4, humanRequested: false, sentiment: calm, noCandidates: false }),
    ).toEqual({
      escalate: true,
      reason: 'low_confidence',
    });
  });

  it('answers when confidence reaches the threshold', () => {
    expect(
      policy.decide({ confidence: 0.6, humanRequested: false, sentiment: calm, noCandidates: false }),
    ).toEqual({
      escalate: false,
    });
  });

  it('escalates an explicit request for a human even when confident', () => {
    const decision = policy.decide({
      confidence: 0.99,
      humanRequested: true,
      sentiment: calm,
      noCandidates: false,
    });
    expect(decision).toEqual({ escalate: true, reason: 'human_requested' });
  });

  it('escalates angry and urgent messages', () => {
    const angry = readSentiment(
      'Our whole production environment is down since this morning, nothing loads, this is unacceptable!!',
    );
    expect(angry.sentiment).toBeLessThanOrEqual(-0.4);
    expect(angry.urgency).toBeGreaterThanOrEqual(0.3);
    expect(
      policy.decide({ confidence: 0.9, humanRequested: false, sentiment: angry, noCandidates: false }),
    ).toEqual({
      escalate: true,
      reason: 'negative_sentiment_urgent',
    });
  });

  it('escalates as out of scope when nothing in the knowledge base matches', () => {
    expect(
      policy.decide({ confidence: 0.9, humanRequested: false, sentiment: calm, noCandidates: true }),
    ).toEqual({
      escalate: true,
      reason: 'out_of_scope',
    });
  });

  it('rejects a threshold outside [0, 1]', () => {
    expect(() => new EscalationPolicy({ confidenceThreshold: 1.5 })).toThrow(/within \[0, 1\]/);
  });
});

describe('customer sentiment and human requests', () => {
  it.each([
    'talk to a human',
    'Can I speak to a real person please?',
    'I want an agent',
    'connect me with your support team',
    'agent',
    'I need a human NOW.',
  ])('recognises "%s" as a request for a human', (text) => {
    expect(requestsHuman(text)).toBe(true);
  });

  it.each([
    'How do I add an agent seat to my plan?',
    'Is there a human-readable export format?',
    'How do I reset my password?',
  ])('does not treat "%s" as a request for a human', (text) => {
    expect(requestsHuman(text)).toBe(false);
  });

  it('reads a polite question as neutral and not urgent', () => {
    const reading = readSentiment('Thanks! How can I change the dashboard timezone?');
    expect(reading.sentiment).toBeGreaterThanOrEqual(0);
    expect(reading.urgency).toBe(0);
  });
});
