/**
 * One customer turn in three stages, each a step of the turn workflow (statemachines/turn.asl.json):
 *   classify  mask PII → embed → intent and product area, sentiment, explicit human request
 *   retrieve  hybrid retrieval + learned rerank → calibrated confidence → escalation decision
 *   compose   grounded answer with citations from the chosen FAQs (local or Bedrock provider)
 * Stage results are plain JSON so they can travel between Step Functions states. Everything outside is
 * injected; nothing here knows whether it runs in Lambda or locally.
 */
import { type ConfidenceModel, confidenceFeatures } from './confidence';
import { readSentiment, requestsHuman, type SentimentReading } from './customerSentiment';
import type { EscalationDecision, EscalationPolicy, EscalationReason } from './escalationPolicy';
import type { FaqRanker, RankedFaq } from './faqRanker';
import type { FaqSearch } from './faqSearch';
import type { KnowledgeIndex } from './knowledgeIndex';
import { maskPii } from './piiMasking';
import type { AnswerResult, Clock, Embedder, ModelProvider } from './ports';
import { systemClock } from './ports';
import type { Classification, SupportClassifier } from './supportClassifier';
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
}

/** Passages whose ranker share is at least this fraction are given to the model beside the best one. */
const SUPPORTING_PASSAGE_SHARE = 0.2;
/** Candidates asked of an external search backend per retriever. */
const EXTERNAL_CANDIDATES = 30;
/** Candidates kept in the retrieval outcome (handoff packets show what was tried). */
const CANDIDATES_KEPT = 5;

export class ConversationEngine {
  private readonly clock: Clock;

  constructor(private readonly deps: ConversationEngineDependencies) {
    this.clock = deps.clock ?? systemClock;
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

  /** Grounded answer from the given FAQs (best first), with citations limited to what the model used. */
  async compose(input: {
    readonly maskedText: string;
    readonly faqIds: readonly string[];
    readonly history?: readonly HistoryTurn[];
  }): Promise<ComposedAnswer> {
    const passages = input.faqIds
      .map((id) => this.faq(id))
      .filter((faq): faq is Faq => faq !== undefined)
      .map((faq) => ({ faqId: faq.id, question: faq.question, answer: faq.answer }));
    if (passages.length === 0)
      throw new Error(`none of the FAQs ${input.faqIds.join(', ')} is in the knowledge base`);
    const history = (input.history ?? [])
      .slice(-6)
      .map((turn) => ({ ...turn, text: maskPii(turn.text).text }));
    const model = await this.deps.model.answer({
      question: input.maskedText,
      history,
      passages,
      complexity:
        passages.length > 1 || input.maskedText.length > 240 || history.length > 4 ? 'complex' : 'simple',
    });
    const cited = new Set(model.citedFaqIds);
    const citations = passages
      .filter((p) => cited.has(p.faqId))
      .map(({ faqId, question }) => ({ faqId, question }));
    const text = model.disclaimer ? `${model.text}\n\n_${model.disclaimer}_` : model.text;
    return { text, citations, model };
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
