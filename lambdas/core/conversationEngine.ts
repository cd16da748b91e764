/**
 * One customer turn: mask PII → embed → classify intent and product area → hybrid retrieval + learned
 * rerank → calibrated confidence → escalation policy → grounded answer (or escalation with a reason).
 * Everything outside is injected; nothing here knows whether it runs in Lambda or locally.
 */
import { type ConfidenceModel, confidenceFeatures } from './confidence';
import { readSentiment, requestsHuman, type SentimentReading } from './customerSentiment';
import type { EscalationDecision, EscalationPolicy, EscalationReason } from './escalationPolicy';
import type { FaqRanker, RankedFaq } from './faqRanker';
import type { KnowledgeIndex } from './knowledgeIndex';
import { maskPii } from './piiMasking';
import type { AnswerResult, Clock, Embedder, ModelProvider } from './ports';
import { systemClock } from './ports';
import type { Classification, SupportClassifier } from './supportClassifier';
import { type Intent, isProductArea, type ProductArea } from './types';

export interface HistoryTurn {
  readonly role: 'customer' | 'assistant';
  readonly text: string;
}

export interface TurnInput {
  readonly text: string;
  readonly history?: readonly HistoryTurn[];
}

export interface Citation {
  readonly faqId: string;
  readonly question: string;
}

/** What the engine understood of a message, before deciding. */
export interface MessageAnalysis {
  readonly maskedText: string;
  readonly intent: Classification<Intent>;
  readonly productArea: ProductArea;
  readonly productAreaProbability: number;
  readonly ranked: readonly RankedFaq[];
  readonly confidence: number;
  readonly sentiment: SentimentReading;
  readonly humanRequested: boolean;
  readonly timings: { readonly embedMs: number; readonly classifyMs: number; readonly retrieveMs: number };
}

interface OutcomeBase {
  readonly analysis: MessageAnalysis;
  readonly latencyMs: number;
}

export interface AnsweredTurn extends OutcomeBase {
  readonly kind: 'answer';
  readonly text: string;
  readonly citations: readonly Citation[];
  readonly model: AnswerResult;
}

export interface EscalatedTurn extends OutcomeBase {
  readonly kind: 'escalate';
  readonly reason: EscalationReason;
  /** FAQs the engine considered, for the handoff packet. */
  readonly faqsTried: readonly Citation[];
}

export type TurnOutcome = AnsweredTurn | EscalatedTurn;

export interface ConversationEngineDependencies {
  readonly embedder: Embedder;
  readonly classifier: SupportClassifier;
  readonly knowledge: KnowledgeIndex;
  readonly ranker: FaqRanker;
  readonly confidence: ConfidenceModel;
  readonly policy: EscalationPolicy;
  readonly model: ModelProvider;
  readonly clock?: Clock;
}

/** Passages whose ranker share is at least this fraction are given to the model beside the best one. */
const SUPPORTING_PASSAGE_SHARE = 0.2;

export class ConversationEngine {
  private readonly clock: Clock;

  constructor(private readonly deps: ConversationEngineDependencies) {
    this.clock = deps.clock ?? systemClock;
  }

  get knowledge(): KnowledgeIndex {
    return this.deps.knowledge;
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

  async analyze(text: string): Promise<MessageAnalysis> {
    const { embedder, classifier, knowledge, ranker } = this.deps;
    const maskedText = maskPii(text).text;
    const t0 = performance.now();
    const [vector] = await embedder.embed([maskedText]);
    const t1 = performance.now();
    const classification = classifier.classify(maskedText, vector!);
    const t2 = performance.now();
    const query = knowledge.analyzeQuery(maskedText, vector!);
    const ranked = ranker.rank(
      knowledge.candidates(query, {
        intent: classification.intent.distribution,
        productArea: classification.productArea.distribution,
      }),
    );
    const confidence = this.deps.confidence.confidence(
      confidenceFeatures(ranked, classification.intent.probability, query.terms.length),
    );
    const t3 = performance.now();
    const top = ranked[0];
    // A confident FAQ match names the product area more reliably than the classifier alone.
    const area =
      top && confidence >= 0.5 && isProductArea(top.faq.productArea)
        ? top.faq.productArea
        : classification.productArea.label;
    return {
      maskedText,
      intent: classification.intent,
      productArea: area,
      productAreaProbability: classification.productArea.distribution[area],
      ranked,
      confidence,
      sentiment: readSentiment(text),
      humanRequested: requestsHuman(text),
      timings: { embedMs: t1 - t0, classifyMs: t2 - t1, retrieveMs: t3 - t2 },
    };
  }

  /** The escalation policy's verdict on an analysed message. */
  decide(analysis: MessageAnalysis): EscalationDecision {
    return this.deps.policy.decide({
      confidence: analysis.confidence,
      humanRequested: analysis.humanRequested,
      sentiment: analysis.sentiment,
      noCandidates: analysis.ranked.length === 0,
    });
  }

  async handleTurn(input: TurnInput): Promise<TurnOutcome> {
    const started = this.clock.now();
    const analysis = await this.analyze(input.text);
    const decision = this.decide(analysis);
    const citationsOf = (items: readonly RankedFaq[]) =>
      items.map((r) => ({ faqId: r.faq.id, question: r.faq.question }));
    if (decision.escalate) {
      return {
        kind: 'escalate',
        reason: decision.reason,
        analysis,
        faqsTried: citationsOf(analysis.ranked.slice(0, 3)),
        latencyMs: this.clock.now() - started,
      };
    }
    const passages = analysis.ranked
      .filter((r, i) => i === 0 || r.share >= SUPPORTING_PASSAGE_SHARE)
      .slice(0, 3)
      .map((r) => ({ faqId: r.faq.id, question: r.faq.question, answer: r.faq.answer }));
    const history = (input.history ?? [])
      .slice(-6)
      .map((turn) => ({ ...turn, text: maskPii(turn.text).text }));
    const model = await this.deps.model.answer({
      question: analysis.maskedText,
      history,
      passages,
      complexity:
        passages.length > 1 || analysis.maskedText.length > 240 || history.length > 4 ? 'complex' : 'simple',
    });
    const cited = new Set(model.citedFaqIds);
    const citations = passages
      .filter((p) => cited.has(p.faqId))
      .map(({ faqId, question }) => ({ faqId, question }));
    const text = model.disclaimer ? `${model.text}\n\n_${model.disclaimer}_` : model.text;
    return {
      kind: 'answer',
      text,
      citations,
      model,
      analysis,
      latencyMs: this.clock.now() - started,
    };
  }
}
