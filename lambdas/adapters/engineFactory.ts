/**
 * Assembles a ConversationEngine from its trained artefacts (models/), a knowledge base and the providers
 * chosen at the edge. Both faces call this; only the injected embedder/model provider differ.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfidenceModel, type SerializedConfidenceModel } from '#core/confidence';
import { ConversationEngine, type ConversationEngineDependencies } from '#core/conversationEngine';
import { DEFAULT_CONFIDENCE_THRESHOLD, EscalationPolicy } from '#core/escalationPolicy';
import { ExtractiveAnswerer } from '#core/extractiveAnswerer';
import { FaqRanker, type SerializedRanker } from '#core/faqRanker';
import { buildKnowledgeIndex, type KnowledgeIndexOptions } from '#core/knowledgeIndex';
import type { Clock, Embedder, ModelProvider } from '#core/ports';
import { type SerializedClassifier, SupportClassifier } from '#core/supportClassifier';
import type { Faq } from '#core/types';
import { exactVectorSearch, type VectorSearchFactory } from '#core/vectorSearch';
import { EmbeddingStore } from './embeddingStore';
import { hnswVectorSearch } from './hnswVectorSearch';
import { UseLiteEmbedder } from './useLiteEmbedder';

export const DEFAULT_MODELS_DIR = resolve(import.meta.dirname, '..', '..', 'models');

export interface RetrievalArtefact {
  readonly version: string;
  readonly ranker: SerializedRanker;
  readonly confidence: SerializedConfidenceModel;
  readonly metrics?: Record<string, unknown>;
}

export interface EngineArtefacts {
  readonly classifier: SerializedClassifier;
  readonly retrieval: RetrievalArtefact;
}

function readArtefact<T>(path: string): T {
  if (!existsSync(path)) {
    throw new Error(`model artefact ${path} is missing: run \`npm run train\` to produce it`);
  }
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function loadEngineArtefacts(dir = DEFAULT_MODELS_DIR): EngineArtefacts {
  return {
    classifier: readArtefact(join(dir, 'classifier.json')),
    retrieval: readArtefact(join(dir, 'retrieval.json')),
  };
}

export interface EngineOptions extends KnowledgeIndexOptions {
  readonly faqs: readonly Faq[];
  /** Embeds customer messages at run time. */
  readonly embedder: Embedder;
  /** Embeds the KB texts when the index is built (e.g. a persistent cache). @default embedder */
  readonly indexEmbedder?: Embedder;
  readonly artefacts: EngineArtefacts;
  /** @default the local extractive provider */
  readonly model?: ModelProvider;
  /** @default DEFAULT_CONFIDENCE_THRESHOLD */
  readonly confidenceThreshold?: number;
  readonly clock?: Clock;
  /** External candidate search (OpenSearch). @default the index's own BM25F + vectors */
  readonly search?: ConversationEngineDependencies['search'];
  /** Input-token budget of one answer. @default DEFAULT_MAX_INPUT_TOKENS */
  readonly maxInputTokensPerQuery?: number;
}

/** HNSW when the native module loads (it is not in the Lambda layer), else the exact scan. */
const hnswOrExact = (): VectorSearchFactory => (vectors, dimensions) => {
  try {
    return hnswVectorSearch()(vectors, dimensions);
  } catch (error) {
    console.warn(`hnswlib-node unavailable (${(error as Error).message}); using the exact vector scan`);
    return exactVectorSearch(vectors, dimensions);
  }
};

/** Above this many FAQs, vector candidates come from an HNSW graph instead of an exact scan. */
export const HNSW_ABOVE_FAQS = 2000;

export async function createConversationEngine(options: EngineOptions): Promise<ConversationEngine> {
  const { artefacts } = options;
  const vectorSearchFactory =
    options.vectorSearchFactory ?? (options.faqs.length > HNSW_ABOVE_FAQS ? hnswOrExact() : undefined);
  return new ConversationEngine({
    embedder: options.embedder,
    classifier: new SupportClassifier(artefacts.classifier),
    knowledge: await buildKnowledgeIndex(options.faqs, options.indexEmbedder ?? options.embedder, {
      ...options,
      vectorSearchFactory,
    }),
    ranker: new FaqRanker(artefacts.retrieval.ranker),
    confidence: new ConfidenceModel(artefacts.retrieval.confidence),
    policy: new EscalationPolicy({
      confidenceThreshold: options.confidenceThreshold ?? DEFAULT_CONFIDENCE_THRESHOLD,
    }),
    model: options.model ?? new ExtractiveAnswerer(options.clock),
    clock: options.clock,
    search: options.search,
    maxInputTokensPerQuery: options.maxInputTokensPerQuery,
  });
}

export interface EmbeddedEngineOptions
  extends Omit<EngineOptions, 'embedder' | 'indexEmbedder' | 'artefacts'> {
  readonly modelsDir?: string;
  /** Where vectors of KB texts are cached between starts. @default models/kb-embeddings.jsonl (read-only) */
  readonly embeddingCachePath?: string;
}

/** The engine with the shipped USE-lite embedder and artefacts: the local face and embedded Lambdas. */
export async function createEmbeddedEngine(options: EmbeddedEngineOptions): Promise<ConversationEngine> {
  const modelsDir = options.modelsDir ?? DEFAULT_MODELS_DIR;
  const embedder = await UseLiteEmbedder.load();
  const shipped = new EmbeddingStore(embedder, join(modelsDir, 'kb-embeddings.jsonl'));
  const indexEmbedder = options.embeddingCachePath
    ? new EmbeddingStore(shipped, options.embeddingCachePath)
    : shipped;
  const engine = await createConversationEngine({
    ...options,
    embedder,
    indexEmbedder,
    artefacts: loadEngineArtefacts(modelsDir),
  });
  if (indexEmbedder !== shipped) indexEmbedder.save();
  return engine;
}
