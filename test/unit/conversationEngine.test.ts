import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EmbeddingStore } from '#adapters/embeddingStore';
import {
  createConversationEngine,
  createEmbeddedEngine,
  DEFAULT_MODELS_DIR,
  loadEngineArtefacts,
} from '#adapters/engineFactory';
import { UseLiteEmbedder } from '#adapters/useLiteEmbedder';
import { type ClassifiedMessage, ConversationEngine, type RetrievalOutcome } from '#core/conversationEngine';
import { ExtractiveAnswerer } from '#core/extractiveAnswerer';
import type { AnswerRequest, AnswerResult, ModelProvider } from '#core/ports';
import type { Faq } from '#core/types';
import { loadBuiltInKnowledgeBase } from '../../scripts/datasets';

const EMAIL = 'jane.doe@example.com';
const CARD = '4111 1111 1111 1111';

/** The local provider, remembering every request it was given. */
class RecordingModelProvider implements ModelProvider {
  readonly name = 'recording';
  readonly requests: AnswerRequest[] = [];
  private readonly inner = new ExtractiveAnswerer();

  answer(request: AnswerRequest): Promise<AnswerResult> {
    this.requests.push(request);
    return this.inner.answer(request);
  }
}

/** The shipped artefacts and embedder, with a recording model provider. */
async function engineWithRecordingModel(faqs: readonly Faq[]) {
  const embedder = await UseLiteEmbedder.load();
  const model = new RecordingModelProvider();
  const engine = await createConversationEngine({
    faqs,
    embedder,
    indexEmbedder: new EmbeddingStore(embedder, join(DEFAULT_MODELS_DIR, 'kb-embeddings.jsonl')),
    artefacts: loadEngineArtefacts(),
    model,
  });
  return { engine, model };
}

const sum = (distribution: Record<string, number>) => Object.values(distribution).reduce((a, b) => a + b, 0);

describe('conversation engine with the shipped models and built-in knowledge base', () => {
  let faqs: Faq[];
  let engine: ConversationEngine;

  beforeAll(async () => {
    faqs = loadBuiltInKnowledgeBase();
    engine = await createEmbeddedEngine({ faqs });
  });

  it('answers a password reset question from the password FAQ with confidence above the threshold', async () => {
    // Prepare
    const text = 'How do I reset a forgotten password?';

    // Act
    const outcome = await engine.handleTurn({ text });

    // Assess
    expect(outcome.kind).toBe('answer');
    if (outcome.kind !== 'answer') return;
    expect(outcome.analysis.confidence).toBeGreaterThanOrEqual(0.65);
    expect(outcome.analysis.retrieval.candidates[0]?.faqId).toBe('auth-009');
    expect(outcome.citations.map((c) => c.faqId)).toContain('auth-009');
    expect(outcome.text).toContain('Forgot password?');
  });

  it.each([
    { text: "what's the weather in Lisbon tomorrow", reason: 'low_confidence' },
    { text: 'I need to speak to a real person', reason: 'human_requested' },
    {
      text: 'Our whole production environment is down since this morning, nothing loads, this is unacceptable!!',
      reason: 'negative_sentiment_urgent',
    },
  ])('escalates "$text" as $reason', async ({ text, reason }) => {
    // Act
    const outcome = await engine.handleTurn({ text });

    // Assess
    expect(outcome).toMatchObject({ kind: 'escalate', reason });
    expect(engine.decide(outcome.analysis)).toEqual({ escalate: true, reason });
  });

  it('keeps an email and a card number out of the classified text', async () => {
    // Prepare
    const text = `My email is ${EMAIL} and my card ${CARD} was charged twice, how do I get a refund?`;

    // Act
    const classified = await engine.classify(text);

    // Assess
    expect(classified.maskedText).not.toContain(EMAIL);
    expect(classified.maskedText).not.toContain(CARD);
    expect(classified.maskedText).toContain('[EMAIL]');
    expect(classified.maskedText).toContain('[CARD]');
  });

  it('sends the model provider no email or card number from the message or the history', async () => {
    // Prepare
    const { engine: recorded, model } = await engineWithRecordingModel(faqs);
    const text = `My card ${CARD} was charged twice, how do I get a refund?`;
    const classified = await recorded.classify(text);
    const retrieval = await recorded.retrieve(classified);

    // Act
    await recorded.compose({
      maskedText: classified.maskedText,
      faqIds: ConversationEngine.answerSources(retrieval),
      history: [
        { role: 'customer', text: `Hi, I am ${EMAIL}` },
        { role: 'assistant', text: 'Hello! How can I help?' },
      ],
    });

    // Assess
    expect(model.requests).toHaveLength(1);
    const sent = JSON.stringify(model.requests[0]);
    expect(sent).not.toContain(EMAIL);
    expect(sent).not.toContain(CARD);
    expect(sent).not.toContain(CARD.replace(/ /g, ''));
    expect(sent).toContain('[CARD]');
  });

  it('gives the same decision from JSON-serialised classify, retrieve and compose stages as from analyze', async () => {
    // Prepare
    const text = 'How do I reset a forgotten password?';
    const viaJson = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

    // Act
    const classified = viaJson<ClassifiedMessage>(await engine.classify(text));
    const retrieval = viaJson<RetrievalOutcome>(await engine.retrieve(classified));
    const answer = viaJson(
      await engine.compose({
        maskedText: classified.maskedText,
        faqIds: ConversationEngine.answerSources(retrieval),
      }),
    );
    const analysis = await engine.analyze(text);

    // Assess
    expect(retrieval.decision).toEqual(analysis.retrieval.decision);
    expect(retrieval.confidence).toBeCloseTo(analysis.confidence, 10);
    expect(retrieval.candidates.map((c) => c.faqId)).toEqual(
      analysis.retrieval.candidates.map((c) => c.faqId),
    );
    expect(classified.intent.label).toBe(analysis.intent.label);
    expect(answer.citations[0]?.faqId).toBe('auth-009');
  });

  it.each([
    'How do I reset a forgotten password?',
    "what's the weather in Lisbon tomorrow",
    'Can I get an invoice that lists our VAT number?',
    '',
  ])('keeps confidence within [0, 1] and distributions summing to 1 for "%s"', async (text) => {
    // Act
    const analysis = await engine.analyze(text);

    // Assess
    expect(analysis.confidence).toBeGreaterThanOrEqual(0);
    expect(analysis.confidence).toBeLessThanOrEqual(1);
    expect(sum(analysis.intent.distribution)).toBeCloseTo(1, 6);
    expect(sum(analysis.productArea.distribution)).toBeCloseTo(1, 6);
    expect(analysis.intent.probability).toBe(analysis.intent.distribution[analysis.intent.label]);
  });

  it("shifts a borderline message's intent toward taught examples", async () => {
    // Prepare
    const { engine: taught } = await engineWithRecordingModel(faqs);
    const text = 'I want reports emailed every monday';
    const before = (await taught.classify(text)).intent;

    // Act
    await taught.learnExamples([
      { text: 'Can reports be emailed to me every Monday?', intent: 'general_inquiry' },
      { text: 'How do I get my reports emailed every week?', intent: 'general_inquiry' },
      { text: 'Is it possible to receive reports by email on Mondays?', intent: 'general_inquiry' },
    ]);
    const after = (await taught.classify(text)).intent;

    // Assess
    expect(before.label).not.toBe('general_inquiry');
    expect(after.distribution.general_inquiry).toBeGreaterThan(before.distribution.general_inquiry + 0.2);
    expect(after.label).toBe('general_inquiry');
    expect(sum(after.distribution)).toBeCloseTo(1, 6);
  });
});
