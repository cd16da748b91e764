/**
 * No labelled PII from data/pii/corpus.jsonl reaches a hosted model: every corpus message goes through
 * the engine (classify → retrieve → compose) with the Bedrock provider pointed at the Converse stub, as the
 * question and as earlier turns of the history, and every request body the stub received is searched for
 * the labelled values. test/integration/piiLeaksEndToEnd.test.ts does the same through the handlers of the
 * running local face and also searches their logs.
 */
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BedrockModelProvider } from '#adapters/bedrockModelProvider';
import { createEmbeddedEngine } from '#adapters/engineFactory';
import type { ConversationEngine, HistoryTurn } from '#core/conversationEngine';
import { loadBuiltInKnowledgeBase } from '../../scripts/datasets';
import { type ConverseStub, startConverseStub } from '../support/converseStub';
import { piiCorpus as corpus, labelledPiiCount, piiLeaksIn } from '../support/piiCorpus';

describe('PII never reaches the model provider', () => {
  let stub: ConverseStub;
  let client: BedrockRuntimeClient;
  let engine: ConversationEngine;

  beforeAll(async () => {
    stub = await startConverseStub({ kind: 'answer', text: 'Here is how to do that.' });
    client = new BedrockRuntimeClient({
      endpoint: stub.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      maxAttempts: 1,
    });
    engine = await createEmbeddedEngine({
      faqs: loadBuiltInKnowledgeBase(),
      model: new BedrockModelProvider({
        client,
        simpleModelId: 'anthropic.claude-3-haiku-20240307-v1:0',
        complexModelId: 'anthropic.claude-3-5-sonnet-20241022-v2:0',
      }),
    });
  });

  afterAll(async () => {
    client?.destroy();
    await stub?.close();
  });

  it('sends no labelled PII in any Converse request, as question or as history', async () => {
    // Prepare
    const history: HistoryTurn[] = [];

    // Act: every line as the question, the three before it as the customer's earlier turns
    for (const line of corpus) {
      const analysis = await engine.analyze(line.text);
      const faqIds = analysis.retrieval.candidates.slice(0, 2).map((c) => c.faqId);
      if (faqIds.length > 0) await engine.compose({ maskedText: analysis.maskedText, faqIds, history });
      history.push({ role: 'customer', text: line.text }, { role: 'assistant', text: 'Thanks, noted.' });
      history.splice(0, history.length - 6);
    }
    const sent = stub.requests.map((r) => JSON.stringify(r.body));
    const leaks = piiLeaksIn(sent.join('\n'));

    // Assess
    const labelled = labelledPiiCount;
    const direct = corpus.filter((line) => line.pii.length > 0).length;
    console.info(
      `PII leaks into model requests: ${leaks.length} of ${labelled} labelled values checked in ` +
        `${stub.requests.length} Converse requests (${direct} corpus lines with PII, each also sent as history)`,
    );
    expect(stub.requests.length).toBeGreaterThanOrEqual(corpus.length * 0.9);
    expect(leaks).toEqual([]);
  }, 120_000);
});
