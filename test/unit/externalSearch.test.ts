/**
 * The engine with an external search backend choosing candidates (how OpenSearch plugs in on AWS): the
 * ranker, confidence and decision still work, and agree with the built-in index on clear questions.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedFaqSearch } from '#adapters/embeddedFaqSearch';
import { EmbeddingStore } from '#adapters/embeddingStore';
import { createConversationEngine, DEFAULT_MODELS_DIR, loadEngineArtefacts } from '#adapters/engineFactory';
import { UseLiteEmbedder } from '#adapters/useLiteEmbedder';
import type { ConversationEngine } from '#core/conversationEngine';
import { loadBuiltInKnowledgeBase } from '../../scripts/datasets';

describe('conversation engine with an external search backend', () => {
  let internal: ConversationEngine;
  let external: ConversationEngine;
  let backendQueries = 0;

  beforeAll(async () => {
    const faqs = loadBuiltInKnowledgeBase();
    const embedder = await UseLiteEmbedder.load();
    const indexEmbedder = new EmbeddingStore(embedder, join(DEFAULT_MODELS_DIR, 'kb-embeddings.jsonl'));
    const artefacts = loadEngineArtefacts();
    const backend = new EmbeddedFaqSearch({ dimensions: 512 });
    const vectors = await indexEmbedder.embed(faqs.map((f) => f.question));
    await backend.upsert(faqs.map((faq, i) => ({ faq, vector: vectors[i]! })));
    const counting = {
      search: (query: Parameters<EmbeddedFaqSearch['search']>[0], k: number) => {
        backendQueries++;
        return backend.search(query, k);
      },
      upsert: backend.upsert.bind(backend),
      remove: backend.remove.bind(backend),
    };
    internal = await createConversationEngine({ faqs, embedder, indexEmbedder, artefacts });
    external = await createConversationEngine({
      faqs,
      embedder,
      indexEmbedder,
      artefacts,
      search: { backend: counting, embedder },
    });
  }, 60_000);

  it('answers a clear question with the same FAQ as the built-in index, using the backend', async () => {
    // Act
    const viaBackend = await external.analyze('How do I reset a forgotten password?');
    const builtIn = await internal.analyze('How do I reset a forgotten password?');
    // Assess
    expect(backendQueries).toBeGreaterThan(0);
    expect(viaBackend.retrieval.candidates[0]?.faqId).toBe('auth-009');
    expect(viaBackend.retrieval.candidates[0]?.faqId).toBe(builtIn.retrieval.candidates[0]?.faqId);
    expect(viaBackend.retrieval.decision).toEqual({ escalate: false });
  });

  it('still escalates what the knowledge base does not cover', async () => {
    const analysis = await external.analyze('What time does the bakery on Main Street open?');
    expect(analysis.retrieval.decision).toMatchObject({ escalate: true });
  });
});
