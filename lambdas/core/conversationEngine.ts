/**
 * One customer turn in three stages, each a step of the turn workflow (statemachines/turn.asl.json):
 *   classify  mask PII → embed → intent and product area, sentiment, explicit human request
 *   retrieve  hybrid retrieval + learned rerank → calibrated confidence → escalation decision
 *   compose   grounded answer with citations from the chosen FAQs (local or Bedrock provider), then the
 *             output sanitizer; a message the prompt guard judges an injection never reaches a model
 * Stage results are plain JSON so they can travel between Step Functions states. Everything outside is
 * injected; nothing here knows whether it runs in Lambda or locally.
 */
import { promptHashOf } from './auditLog';
import { type ConfidenceModel, confidenceFeatures } from './confidence';
import { readSentiment, requestsHuman, type SentimentReading } from './customerSentiment';
import type { EscalationDecision, EscalationPolicy, EscalationReason } from './escalationPolicy';
import { ExtractiveAnswerer } from './extractiveAnswerer';
import type { FaqRanker, RankedFaq } from './faqRanker';
import type { FaqSearch } from './faqSearch';
import type { KnowledgeIndex } from './knowledgeIndex';
import { sanitizeReply } from './outputSanitizer';
import { maskPii } from './piiMasking';
import type { AnswerResult, Clock, Embedder, ModelProvider } from './ports';
import { systemClock } from './ports';
import { inspectPrompt, type PromptInspection } from './promptInjectionGuard';
import type { Classification, SupportClassifier } from './supportClassifier';
import { DEFAULT_MAX_INPUT_TOKENS, fitTokenBudget, type TokenBudgetReport } from './tokenBudget';
import { type Faq, type Intent, isProductArea, type ProductArea } from './types';

export interface HistoryTurn {
  readonly role: 'customer' | 'assistant';
  readonly text: string;
}

export interface Citation {
  readonly faqId: string;
  readonly question: string;
}

/** Output of the classify stage. */
export interface ClassifiedMessage {
  readonly maskedText: string;
  readonly intent: Classification<Intent>;
  readonly productArea: Classification<ProductArea>;
  readonly sentiment: SentimentReading;
  readonly humanRequested: boolean;
  /** The prompt guard's reading of the message (signals only, never text). Absent in older states. */
  readonly promptGuard?: PromptInspection;
  readonly timings: { readonly embedMs: number; readonly classifyMs: number };
}

export interface RetrievedCandidate extends Citation {
  readonly score: number;
  readonly share: number;
}

/** Output of the retrieve stage. */
export interface RetrievalOutcome {
  readonly candidates: readonly RetrievedCandidate[];
  readonly confidence: number;
  readonly threshold: number;
  /** The classifier's area, or the rank-1 FAQ's area when retrieval is confident. */
  readonly productArea: ProductArea;
  readonly decision: EscalationDecision;
  readonly retrieveMs: number;
}

/** Everything the engine understood of a message (classify + retrieve), used by evaluation and tests. */
export interface MessageAnalysis extends ClassifiedMessage {
  readonly ranked: readonly RankedFaq[];
  readonly retrieval: RetrievalOutcome;
  readonly confidence: number;
}

export interface ComposedAnswer {
  readonly text: string;
  readonly citations: readonly Citation[];
  readonly model: AnswerResult;
  /** What the output sanitizer removed or masked (e.g. 'html', 'pii:email'); empty when nothing. */
  readonly sanitized?: readonly string[];
  /** The prompt's estimated input tokens and what the token budget did to fit it. Set by compose. */
  readonly budget?: TokenBudgetReport;
  /** SHA-256 of the PII-masked prompt as sent (question, passage ids, model id). Set by compose. */
  readonly promptHash?: string;
}

export type TurnOutcome =
  | ({
      readonly kind: 'answer';
      readonly analysis: MessageAnalysis;
      readonly latencyMs: number;
    } & ComposedAnswer)
  | {
      readonly kind: 'escalate';
      readonly reason: EscalationReason;
      readonly analysis: MessageAnalysis;
      readonly faqsTried: readonly Citation[];
      readonly latencyMs: number;
    };

export interface ConversationEngineDependencies {
  readonly embedder: Embedder;
  readonly classifier: SupportClassifier;
  readonly knowledge: KnowledgeIndex;
  readonly ranker: FaqRanker;
  readonly confidence: ConfidenceModel;
  readonly policy: EscalationPolicy;
  readonly model: ModelProvider;
  readonly clock?: Clock;
  /**
   * An external search backend (OpenSearch on AWS) that picks the candidate FAQs, with the embedder its
   * vectors come from. @default the knowledge index's own BM25F and vector search
   */
  readonly search?: { readonly backend: FaqSearch; readonly embedder: Embedder };
  /**
   * Input-token budget of one answer (MAX_INPUT_TOKENS_PER_QUERY); see tokenBudget.ts.
   * @default DEFAULT_MAX_INPUT_TOKENS (3000)
   */
  readonly maxInputTokensPerQuery?: number;
}

/** Passages whose ranker share is at least this fraction are given to the model beside the best one. */
const SUPPORTING_PASSAGE_SHARE = 0.2;
/** Candidates asked of an external search backend per retriever. */
const EXTERNAL_CANDIDATES = 30;
/** Candidates kept in the retrieval outcome (handoff packets show what was tried). */
const CANDIDATES_KEPT = 5;
/** Stands in for an earlier customer message the guard judged an injection, so no model reads it. */
const WITHHELD_TURN = '(message withheld: it contained instructions addressed to the assistant)';

export class ConversationEngine {
  private readonly clock: Clock;
  /** Answers injection attempts straight from the passages: no model reads them. */
  private readonly passageAnswerer: ExtractiveAnswerer;

  private readonly maxInputTokens: number;

  constructor(private readonly deps: ConversationEngineDependencies) {
    this.clock = deps.clock ?? systemClock;
    this.maxInputTokens = deps.maxInputTokensPerQuery ?? DEFAULT_MAX_INPUT_TOKENS;
    if (!(Number.isInteger(this.maxInputTokens) && this.maxInputTokens > 0)) {
      throw new Error(
        `maxInputTokensPerQuery (MAX_INPUT_TOKENS_PER_QUERY) must be a positive integer, got ${deps.maxInputTokensPerQuery}`,
      );
    }
    this.passageAnswerer = new ExtractiveAnswerer(this.clock);
  }

  get knowledge(): KnowledgeIndex {
    return this.deps.knowledge;
  }

  faq(faqId: string): Faq | undefined {
    const doc = this.deps.knowledge.docOf(faqId);
    return doc === undefined ? undefined : this.deps.knowledge.faqs[doc];
  }

  /** Teaches the intent classifier extra labelled messages (e.g. a tenant's own examples). */
  async learnExamples(
    examples: readonly { readonly text: string; readonly intent: Intent }[],
  ): Promise<void> {
    const vectors = await this.deps.embedder.embed(examples.map((e) => maskPii(e.text).text));
    this.deps.classifier.addIntentExamples(
      examples.map((e, i) => ({ vector: vectors[i]!, intent: e.intent })),
    );
  }

  async classify(text: string): Promise<ClassifiedMessage> {
    const maskedText = maskPii(text).text;
    const t0 = performance.now();
    const [vector] = await this.deps.embedder.embed([maskedText]);
    const t1 = performance.now();
    const classification = this.deps.classifier.classify(maskedText, vector!);
    return {
      maskedText,
      intent: classification.intent,
      productArea: classification.productArea,
      sentiment: readSentiment(text),
      humanRequested: requestsHuman(text),
      promptGuard: inspectPrompt(text),
      timings: { embedMs: t1 - t0, classifyMs: performance.now() - t1 },
    };
  }

  async retrieve(message: ClassifiedMessage): Promise<RetrievalOutcome> {
    return (await this.rankAndDecide(message)).retrieval;
  }

  async analyze(text: string): Promise<MessageAnalysis> {
    const message = await this.classify(text);
    const { ranked, retrieval } = await this.rankAndDecide(message);
    return { ...message, ranked, retrieval, confidence: retrieval.confidence };
  }

  /** The escalation policy's verdict on an analysed message. */
  decide(analysis: MessageAnalysis): EscalationDecision {
    return analysis.retrieval.decision;
  }

  /**
   * Grounded answer from the given FAQs (best first), with citations limited to what the model used.
   * An injection attempt is answered from the passages alone; a suspicious message reaches the model
   * fenced as data. The prompt is first fitted to the input-token budget (tokenBudget.ts). Every answer
   * goes through the output sanitizer, and one that reproduces the system prompt is replaced by the
   * passage answer.
   */
  async compose(input: {
    readonly maskedText: string;
    readonly faqIds: readonly string[];
    readonly history?: readonly HistoryTurn[];
    /** The classify stage's guard reading. @default read here from maskedText */
    readonly promptGuard?: PromptInspection;
  }): Promise<ComposedAnswer> {
    const passages = input.faqIds
      .map((id) => this.faq(id))
      .filter((faq): faq is Faq => faq !== undefined)
      .map((faq) => ({ faqId: faq.id, question: faq.question, answer: faq.answer }));
    if (passages.length === 0)
      throw new Error(`none of the FAQs ${input.faqIds.join(', ')} is in the knowledge base`);
    const guard = input.promptGuard ?? inspectPrompt(input.maskedText);
    const history = (input.history ?? []).slice(-6).map((turn) => {
      const text = maskPii(turn.text).text;
      const withheld = turn.role === 'customer' && inspectPrompt(text).verdict === 'injection';
      return { ...turn, text: withheld ? WITHHELD_TURN : text };
    });
    const draft = {
      question: input.maskedText,
      history,
      passages,
      complexity:
        passages.length > 1 || input.maskedText.length > 240 || history.length > 4
          ? ('complex' as const)
          : ('simple' as const),
      ...(guard.verdict === 'suspicious' ? { fenceQuestion: true } : {}),
    };
    const provider: ModelProvider = guard.verdict === 'injection' ? this.passageAnswerer : this.deps.model;
    // Over MAX_INPUT_TOKENS_PER_QUERY, older turns, then runner-up passages, then the strong model go.
    const { prompt: fitted, budget } = fitTokenBudget(
      { ...draft, systemPrompt: provider.systemPrompt },
      this.maxInputTokens,
    );
    const request = {
      question: fitted.question,
      history: fitted.history,
      passages: fitted.passages,
      complexity: fitted.complexity,
      ...(fitted.fenceQuestion ? { fenceQuestion: true } : {}),
    };
    // The KB's own addresses and numbers may be quoted; anyone else's are masked.
    const sanitizeOptions = {
      systemPrompt: provider.systemPrompt,
      allowedIdentifiers: passages.flatMap((p) => [p.question, p.answer]),
    };
    let model = await provider.answer(request);
    let sanitized = sanitizeReply(model.text, sanitizeOptions);
    if (sanitized.changed.includes('system-prompt') || !sanitized.text) {
      model = await this.passageAnswerer.answer(request);
      const fromPassages = sanitizeReply(model.text, sanitizeOptions);
      sanitized = {
        text: fromPassages.text,
        changed: [...new Set([...sanitized.changed, ...fromPassages.changed])],
      };
    }
    const cited = new Set(model.citedFaqIds);
    const citations = passages
      .filter((p) => cited.has(p.faqId))
      .map(({ faqId, question }) => ({ faqId, question }));
    const text = model.disclaimer ? `${sanitized.text}\n\n_${model.disclaimer}_` : sanitized.text;
    const promptHash = promptHashOf({
      modelId: model.usage.modelId,
      question: request.question,
      passageIds: request.passages.map((p) => p.faqId),
    });
    return { text, citations, model, sanitized: sanitized.changed, budget, promptHash };
  }

  /** FAQ ids to ground an answer on: the best one plus close runners-up. */
  static answerSources(retrieval: RetrievalOutcome): string[] {
    return retrieval.candidates
      .filter((c, i) => i === 0 || c.share >= SUPPORTING_PASSAGE_SHARE)
      .slice(0, 3)
      .map((c) => c.faqId);
  }

  /** All three stages in one call (the local benchmark and evaluation use it). */
  async handleTurn(input: {
    readonly text: string;
    readonly history?: readonly HistoryTurn[];
  }): Promise<TurnOutcome> {
    const started = this.clock.now();
    const analysis = await this.analyze(input.text);
    const { decision } = analysis.retrieval;
    if (decision.escalate) {
      return {
        kind: 'escalate',
        reason: decision.reason,
        analysis,
        faqsTried: analysis.retrieval.candidates
          .slice(0, 3)
          .map(({ faqId, question }) => ({ faqId, question })),
        latencyMs: this.clock.now() - started,
      };
    }
    const answer = await this.compose({
      maskedText: analysis.maskedText,
      faqIds: ConversationEngine.answerSources(analysis.retrieval),
      history: input.history,
      promptGuard: analysis.promptGuard,
    });
    return { kind: 'answer', ...answer, analysis, latencyMs: this.clock.now() - started };
  }

  private async externalCandidates(text: string) {
    const search = this.deps.search;
    if (!search) return undefined;
    const [vector] = await search.embedder.embed([text]);
    const hits = await search.backend.search({ text, vector: vector! }, EXTERNAL_CANDIDATES);
    return { lexical: hits.lexical.map((h) => h.faqId), vector: hits.vector.map((h) => h.faqId) };
  }

  private async rankAndDecide(message: ClassifiedMessage) {
    const { embedder, knowledge, ranker, policy } = this.deps;
    const started = performance.now();
    const [vector] = await embedder.embed([message.maskedText]);
    const query = knowledge.analyzeQuery(message.maskedText, vector!);
    const ranked = ranker.rank(
      knowledge.candidates(
        query,
        { intent: message.intent.distribution, productArea: message.productArea.distribution },
        await this.externalCandidates(message.maskedText),
      ),
    );
    const confidence = this.deps.confidence.confidence(
      confidenceFeatures(ranked, message.intent.probability, query.terms.length),
    );
    const top = ranked[0];
    const productArea =
      top && confidence >= 0.5 && isProductArea(top.faq.productArea)
        ? top.faq.productArea
        : message.productArea.label;
    const decision = policy.decide({
      confidence,
      humanRequested: message.humanRequested,
      sentiment: message.sentiment,
      noCandidates: ranked.length === 0,
    });
    const retrieval: RetrievalOutcome = {
      candidates: ranked.slice(0, CANDIDATES_KEPT).map((r) => ({
        faqId: r.faq.id,
        question: r.faq.question,
        score: Math.round(r.score * 1000) / 1000,
        share: Math.round(r.share * 1000) / 1000,
      })),
      confidence,
      threshold: policy.confidenceThreshold,
      productArea,
      decision,
      retrieveMs: performance.now() - started,
    };
    return { ranked, retrieval };
  }
}
