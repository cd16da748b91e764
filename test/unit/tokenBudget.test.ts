import type { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it, vi } from 'vitest';
import { conversationMessages, supportSystemPrompt } from '#adapters/bedrockModelProvider';
import {
  type ClassifiedMessage,
  ConversationEngine,
  type ConversationEngineDependencies,
  type RetrievalOutcome,
} from '#core/conversationEngine';
import type { DomainEvent, EventEnvelope, MessageAnswered } from '#core/domainEvents';
import { ExtractiveAnswerer } from '#core/extractiveAnswerer';
import type { KnowledgeIndex } from '#core/knowledgeIndex';
import { METRICS } from '#core/metricNames';
import { bucketUpdates, summarize } from '#core/metricsAggregation';
import type { AnswerRequest, AnswerResult, GroundingPassage, ModelProvider } from '#core/ports';
import { estimateTokens } from '#core/pricing';
import { SupportDesk } from '#core/supportDesk';
import {
  type BudgetedPrompt,
  DEFAULT_MAX_INPUT_TOKENS,
  estimateInputTokens,
  fitTokenBudget,
  MIN_QUESTION_TOKENS,
} from '#core/tokenBudget';
import type { Faq } from '#core/types';
import { createMetricsAggregator } from '#handlers/events/metricsAggregator';
import {
  FakeClock,
  InMemoryCaseStore,
  InMemoryConnectionStore,
  InMemoryConversationStore,
  RecordingEventPublisher,
  RecordingNotifier,
  RecordingTurnStarter,
} from '../support/inMemoryStores';

const SYSTEM_PROMPT = supportSystemPrompt('Acme');

/** Prose of about `chars` characters (words of 4-9 letters), so truncation has word boundaries. */
const prose = (chars: number, seed = 'billing'): string => {
  const words = [seed, 'invoice', 'refund', 'account', 'password', 'workspace', 'export', 'settings'];
  let text = '';
  for (let i = 0; text.length < chars; i++) text += `${words[i % words.length]} `;
  return text.slice(0, chars).trim();
};

const passage = (faqId: string, answerChars: number): GroundingPassage => ({
  faqId,
  question: `How do I handle ${faqId}?`,
  answer: prose(answerChars, faqId),
});

const prompt = (overrides: Partial<BudgetedPrompt> = {}): BudgetedPrompt => ({
  systemPrompt: SYSTEM_PROMPT,
  question: 'How do I get a refund for a duplicate charge?',
  history: [],
  passages: [passage('bill-004', 400)],
  complexity: 'simple',
  ...overrides,
});

describe('token budget: estimator', () => {
  it.each([
    ['a plain question', prompt()],
    [
      'a fenced question with history and three passages',
      prompt({
        fenceQuestion: true,
        history: [
          { role: 'customer', text: prose(600) },
          { role: 'assistant', text: prose(900) },
          { role: 'customer', text: prose(300) },
        ],
        passages: [passage('bill-004', 700), passage('bill-005', 500), passage('acct-010', 300)],
        complexity: 'complex',
      }),
    ],
  ])(
    'counts at least what the Bedrock provider sends for %s, and at most a quarter more',
    (_name, budgeted) => {
      // Prepare
      const request: AnswerRequest = { ...budgeted };
      const rendered =
        SYSTEM_PROMPT +
        conversationMessages(request)
          .map((m) => m.content?.[0]?.text ?? '')
          .join('');

      // Act
      const estimate = estimateInputTokens(budgeted);

      // Assess: the provider's own fallback count (chars / 4) over the exact text it sends is the floor.
      const sent = estimateTokens(rendered);
      expect(estimate).toBeGreaterThanOrEqual(sent);
      expect(estimate).toBeLessThanOrEqual(sent * 1.25);
    },
  );
});

describe('token budget: fitting a prompt', () => {
  it('leaves a request within budget untouched', () => {
    // Prepare
    const original = prompt({
      history: [
        { role: 'customer', text: 'Hi, I was charged twice.' },
        { role: 'assistant', text: 'Sorry to hear that. Which invoice?' },
      ],
      passages: [passage('bill-004', 600), passage('bill-005', 400)],
      complexity: 'complex',
    });

    // Act
    const { prompt: fitted, budget } = fitTokenBudget(original, DEFAULT_MAX_INPUT_TOKENS);

    // Assess
    expect(fitted).toBe(original);
    expect(budget).toEqual({ estimatedInputTokens: estimateInputTokens(original), actions: [] });
  });

  it('drops the oldest history turns of a long conversation first, keeping the latest ones', () => {
    // Prepare
    const history = Array.from({ length: 6 }, (_, i) => ({
      role: i % 2 === 0 ? ('customer' as const) : ('assistant' as const),
      text: `turn ${i}: ${prose(2000)}`,
    }));
    const original = prompt({ history, passages: [passage('bill-004', 800), passage('bill-005', 600)] });

    // Act
    const { prompt: fitted, budget } = fitTokenBudget(original, 3000);

    // Assess
    expect(budget.actions).toEqual(['history_trimmed']);
    expect(budget.estimatedInputTokens).toBeLessThanOrEqual(3000);
    expect(fitted.history.length).toBeGreaterThan(0);
    expect(fitted.history.length).toBeLessThan(history.length);
    expect(fitted.history).toEqual(history.slice(-fitted.history.length));
    expect(fitted.passages).toEqual(original.passages);
    expect(fitted.question).toBe(original.question);
  });

  it('shortens runner-up passages of huge FAQs after the history, keeping the top-ranked one whole', () => {
    // Prepare
    const top = passage('bill-004', 4000);
    const original = prompt({
      history: [
        { role: 'customer', text: 'Hello' },
        { role: 'assistant', text: 'Hi, how can I help?' },
      ],
      passages: [top, passage('bill-005', 8000), passage('acct-010', 8000)],
      complexity: 'complex',
    });

    // Act
    const { prompt: fitted, budget } = fitTokenBudget(original, 3000);

    // Assess
    expect(budget.actions).toEqual(['history_trimmed', 'passages_trimmed']);
    expect(budget.estimatedInputTokens).toBeLessThanOrEqual(3000);
    expect(fitted.history).toEqual([]);
    expect(fitted.passages[0]).toEqual(top);
    expect(fitted.passages.map((p) => p.faqId)).toEqual(['bill-004', 'bill-005']);
    expect(fitted.passages[1]!.answer.endsWith('…')).toBe(true);
    expect(original.passages[1]!.answer.startsWith(fitted.passages[1]!.answer.slice(0, -1))).toBe(true);
    expect(fitted.complexity).toBe('complex');
  });

  it('routes an oversized question to the cheap model and truncates it to what fits', () => {
    // Prepare
    const question = prose(20_000);
    const original = prompt({ question, complexity: 'complex' });

    // Act
    const { prompt: fitted, budget } = fitTokenBudget(original, 3000);

    // Assess
    expect(budget.actions).toEqual(['downgraded', 'question_truncated']);
    expect(budget.estimatedInputTokens).toBeLessThanOrEqual(3000);
    expect(budget.estimatedInputTokens).toBeGreaterThan(2900);
    expect(fitted.complexity).toBe('simple');
    expect(fitted.question.endsWith('…')).toBe(true);
    expect(question.startsWith(fitted.question.slice(0, -1))).toBe(true);
    expect(fitted.passages).toEqual(original.passages);
  });

  it('counts no downgrade for a question that already goes to the cheap model', () => {
    // Prepare
    const original = prompt({ question: prose(20_000), complexity: 'simple' });

    // Act
    const { budget } = fitTokenBudget(original, 3000);

    // Assess
    expect(budget.actions).toEqual(['question_truncated']);
  });

  it('keeps the top passage whole and a minimal question even when they alone exceed the budget', () => {
    // Prepare
    const top = passage('bill-004', 20_000);
    const original = prompt({ question: prose(2000), passages: [top] });

    // Act
    const { prompt: fitted, budget } = fitTokenBudget(original, 3000);

    // Assess: the estimate is honest about the overrun.
    expect(fitted.passages).toEqual([top]);
    expect(estimateTokens(fitted.question)).toBeLessThanOrEqual(MIN_QUESTION_TOKENS);
    expect(budget.estimatedInputTokens).toBeGreaterThan(3000);
    expect(budget.actions).toEqual(['question_truncated']);
  });

  it('refuses a budget that is not a positive integer', () => {
    // Act
    const fit = () => fitTokenBudget(prompt(), 0);

    // Assess
    expect(fit).toThrow(/positive integer/);
  });
});

/** Answers from the passages, with a system prompt, remembering each request. */
class RecordingProvider implements ModelProvider {
  readonly name = 'recording';
  readonly systemPrompt = SYSTEM_PROMPT;
  readonly requests: AnswerRequest[] = [];
  private readonly inner = new ExtractiveAnswerer();

  answer(request: AnswerRequest): Promise<AnswerResult> {
    this.requests.push(request);
    return this.inner.answer(request);
  }
}

/** An engine over a fixed list of FAQs: compose reads only the knowledge index and the model. */
function composeEngine(faqs: readonly Faq[], maxInputTokensPerQuery?: number) {
  const model = new RecordingProvider();
  const knowledge = {
    faqs,
    docOf: (id: string) => {
      const doc = faqs.findIndex((f) => f.id === id);
      return doc < 0 ? undefined : doc;
    },
  } as unknown as KnowledgeIndex;
  const engine = new ConversationEngine({
    knowledge,
    model,
    maxInputTokensPerQuery,
  } as unknown as ConversationEngineDependencies);
  return { engine, model };
}

const faq = (id: string, answerChars: number): Faq => ({
  id,
  question: `How do I handle ${id}?`,
  alternates: [],
  answer: prose(answerChars, id),
  tags: [],
});

describe('token budget in the engine compose step', () => {
  it('sends the model the fitted prompt and reports the budget and a prompt hash', async () => {
    // Prepare
    const { engine, model } = composeEngine([faq('bill-004', 1500), faq('bill-005', 6000)], 1200);
    const history = Array.from({ length: 6 }, (_, i) => ({
      role: i % 2 === 0 ? ('customer' as const) : ('assistant' as const),
      text: prose(1500),
    }));

    // Act
    const answer = await engine.compose({
      maskedText: 'Why was I charged twice?',
      faqIds: ['bill-004', 'bill-005'],
      history,
    });

    // Assess
    const sent = model.requests[0]!;
    expect(answer.budget?.actions).toEqual(['history_trimmed', 'passages_trimmed']);
    expect(answer.budget?.estimatedInputTokens).toBeLessThanOrEqual(1200);
    expect(sent.history).toEqual([]);
    expect(sent.passages[0]!.answer).toBe(faq('bill-004', 1500).answer);
    expect(answer.promptHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('leaves an ordinary turn untouched with the default budget', async () => {
    // Prepare
    const { engine, model } = composeEngine([faq('bill-004', 600), faq('bill-005', 400)]);
    const history = [
      { role: 'customer' as const, text: 'I was charged twice' },
      { role: 'assistant' as const, text: 'Which invoice?' },
    ];

    // Act
    const answer = await engine.compose({
      maskedText: 'Invoice INV-1 of May',
      faqIds: ['bill-004', 'bill-005'],
      history,
    });

    // Assess
    expect(answer.budget?.actions).toEqual([]);
    expect(model.requests[0]).toMatchObject({ history, complexity: 'complex' });
    expect(model.requests[0]!.passages).toHaveLength(2);
  });

  it('gives the same prompt hash for the same masked prompt and a different one for another question', async () => {
    // Prepare
    const { engine } = composeEngine([faq('bill-004', 600)]);
    const ask = (maskedText: string) => engine.compose({ maskedText, faqIds: ['bill-004'] });

    // Act
    const [a, b, c] = await Promise.all([ask('Refund please'), ask('Refund please'), ask('Invoice please')]);

    // Assess
    expect(a.promptHash).toBe(b.promptHash);
    expect(a.promptHash).not.toBe(c.promptHash);
  });
});

describe('token budget on the MessageAnswered event', () => {
  it('publishes the budget actions and the prompt hash of the composed answer', async () => {
    // Prepare
    const clock = new FakeClock();
    const events = new RecordingEventPublisher();
    const turns = new RecordingTurnStarter();
    const connections = new InMemoryConnectionStore(clock);
    const desk = new SupportDesk({
      conversations: new InMemoryConversationStore(),
      cases: new InMemoryCaseStore(),
      connections,
      notifier: new RecordingNotifier(),
      events,
      clock,
      turns,
    });
    const { engine } = composeEngine([faq('bill-004', 600)], 200);
    await desk.customerConnected('conn-1');
    await desk.receiveMessage('conn-1', { action: 'sendMessage', text: prose(4000) });
    const turn = turns.started[0]!.input;
    const classified = {
      maskedText: prose(4000),
      intent: { label: 'billing_question' },
    } as ClassifiedMessage;
    const retrieval = {
      candidates: [{ faqId: 'bill-004', question: 'How do I handle bill-004?', score: 1, share: 1 }],
      confidence: 0.9,
      productArea: 'billing_subscriptions',
      retrieveMs: 3,
    } as unknown as RetrievalOutcome;

    // Act
    await desk.answerTurn(engine, turn, classified, retrieval);

    // Assess
    const [answered] = events.ofType('MessageAnswered');
    expect(answered?.budgetActions).toEqual(['downgraded', 'question_truncated']);
    expect(answered?.promptHash).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('token budget metrics', () => {
  const answered = (budgetActions?: MessageAnswered['budgetActions']) =>
    ({
      type: 'MessageAnswered',
      conversationId: 'c-1',
      messageId: 'r-1',
      intent: 'billing_question',
      productArea: 'billing',
      confidence: 0.9,
      faqIds: ['bill-004'],
      turnLatencyMs: 800,
      retrievalLatencyMs: 10,
      modelLatencyMs: 500,
      modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
      inputTokens: 2900,
      outputTokens: 200,
      costUsd: 0.001,
      ...(budgetActions ? { budgetActions } : {}),
    }) satisfies DomainEvent;
  const envelope = (id: string, detail: DomainEvent): EventEnvelope => ({
    id,
    source: 'supportmax',
    'detail-type': detail.type,
    time: '2026-03-02T09:10:00.000Z',
    detail,
  });

  it('counts each budget action of an answered turn and sums them in the summary', () => {
    // Prepare
    const events = [
      envelope('e1', answered(['history_trimmed', 'passages_trimmed'])),
      envelope('e2', answered(['history_trimmed'])),
      envelope('e3', answered()),
    ];

    // Act
    const rows = events.flatMap(bucketUpdates);
    const summary = summarize(rows, '24h', Date.parse('2026-03-02T09:30:00.000Z'));

    // Assess
    expect(rows.filter((r) => r.metric.startsWith('budget.')).map((r) => r.metric)).toContain(
      'budget.passages_trimmed',
    );
    expect(summary.tokenBudget).toEqual({ history_trimmed: 2, passages_trimmed: 1 });
  });

  it('emits TokenBudgetActions with the action as dimension', async () => {
    // Prepare
    const singles: { dimensions: Record<string, string>; name: string; value: number }[] = [];
    const metrics = {
      addMetric: vi.fn(),
      singleMetric: () => {
        const dimensions: Record<string, string> = {};
        return {
          addDimension: (name: string, value: string) => {
            dimensions[name] = value;
          },
          addMetric: (name: string, _unit: string, value: number) =>
            singles.push({ dimensions, name, value }),
        };
      },
    } as unknown as Metrics;
    const aggregate = createMetricsAggregator({
      store: { increment: async () => true, read: async () => [] },
      clock: { now: () => Date.parse('2026-03-02T09:30:00.000Z') },
      metrics,
    });

    // Act
    await aggregate(envelope('e1', answered(['downgraded', 'question_truncated'])));

    // Assess
    expect(singles.filter((s) => s.name === METRICS.tokenBudgetActions)).toEqual([
      { dimensions: { action: 'downgraded' }, name: 'TokenBudgetActions', value: 1 },
      { dimensions: { action: 'question_truncated' }, name: 'TokenBudgetActions', value: 1 },
    ]);
  });
});
