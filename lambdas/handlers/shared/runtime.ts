/**
 * Module-level singletons every handler shares within one container (or the one local process): stores,
 * notifier, event publisher, workflow starter and the conversation engine. Each is built on first use from
 * fail-fast environment variables; locally the same variables point the SDK clients at local servers.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { BedrockModelProvider } from '#adapters/bedrockModelProvider';
import { documentClient } from '#adapters/dynamoDocumentClient';
import {
  DynamoCaseStore,
  DynamoConnectionStore,
  DynamoConversationStore,
} from '#adapters/dynamoSupportStores';
import { createEmbeddedEngine } from '#adapters/engineFactory';
import { EventBridgePublisher } from '#adapters/eventBridgePublisher';
import { FileKnowledgeBaseStore, loadKnowledgeBaseFiles } from '#adapters/fileKnowledgeBaseStore';
import { type LoadedKnowledgeBaseIndex, loadKnowledgeBaseIndex } from '#adapters/knowledgeBaseIndex';
import { OpenSearchFaqSearch } from '#adapters/openSearchFaqSearch';
import { SqsEscalationQueue } from '#adapters/sqsEscalationQueue';
import { TABLES } from '#adapters/tableDefinitions';
import { TitanEmbedder } from '#adapters/titanEmbedder';
import { SfnTurnWorkflow } from '#adapters/turnWorkflow';
import { WebSocketNotifier } from '#adapters/websocketNotifier';
import type { ConversationEngine } from '#core/conversationEngine';
import type { EventPublisher } from '#core/domainEvents';
import { ExtractiveAnswerer } from '#core/extractiveAnswerer';
import { FallbackModelProvider } from '#core/fallbackModelProvider';
import { type ModelProvider, systemClock } from '#core/ports';
import { SupportDesk } from '#core/supportDesk';
import { numberEnv, optionalEnv, requireEnv } from './env';
import { logger } from './powertools';

const once = <T>(build: () => T) => {
  let value: T | undefined;
  return () => {
    value ??= build();
    return value;
  };
};

export const conversationStore = once(
  () =>
    new DynamoConversationStore(documentClient(), {
      conversations: requireEnv(TABLES.conversations.envVar),
      messages: requireEnv(TABLES.messages.envVar),
    }),
);

export const caseStore = once(() => new DynamoCaseStore(documentClient(), requireEnv(TABLES.cases.envVar)));

export const connectionStore = once(
  () => new DynamoConnectionStore(documentClient(), requireEnv(TABLES.connections.envVar)),
);

/** WebSocket callback URL: https://{api}.execute-api.{region}.amazonaws.com/{stage} on AWS. */
export const notifier = once(() => WebSocketNotifier.forEndpoint(requireEnv('WEBSOCKET_CALLBACK_URL')));

export const eventPublisher = once(
  (): EventPublisher =>
    new EventBridgePublisher({
      client: new EventBridgeClient({}),
      eventBusName: requireEnv('EVENT_BUS_NAME'),
    }),
);

export const turnWorkflow = once(
  () =>
    new SfnTurnWorkflow({ client: new SFNClient({}), stateMachineArn: requireEnv('TURN_STATE_MACHINE_ARN') }),
);

/** Bedrock when model ids are configured, behind a circuit breaker falling back to the local provider. */
function modelProvider(): ModelProvider {
  const local = new ExtractiveAnswerer();
  const simpleModelId = optionalEnv('BEDROCK_SIMPLE_MODEL_ID');
  if (!simpleModelId) return local;
  const bedrock = new BedrockModelProvider({
    client: new BedrockRuntimeClient({}),
    simpleModelId,
    complexModelId: optionalEnv('BEDROCK_COMPLEX_MODEL_ID') ?? simpleModelId,
    maxOutputTokens: numberEnv('MAX_OUTPUT_TOKENS', 400),
  });
  return new FallbackModelProvider({
    primary: bedrock,
    fallback: local,
    timeoutMs: numberEnv('MODEL_TIMEOUT_MS', 8000),
    onFallback: (reason, error) =>
      logger.warn('model provider fell back to local answers', { reason, error }),
  });
}

const DEFAULT_KB_PATH = resolve(import.meta.dirname, '..', '..', '..', 'data', 'kb');

/** Where a cold start puts the index objects of KNOWLEDGE_BASE_BUCKET. */
const KB_INDEX_DIR = '/tmp/supportmax-kb-index';

/** The index the KB indexer built in KNOWLEDGE_BASE_BUCKET, if that is set and the index exists. */
async function bucketIndex(): Promise<LoadedKnowledgeBaseIndex | undefined> {
  const bucket = optionalEnv('KNOWLEDGE_BASE_BUCKET');
  return bucket ? loadKnowledgeBaseIndex(new S3Client({}), bucket, KB_INDEX_DIR, logger) : undefined;
}

/**
 * The KB: the bucket's index when there is one, else KNOWLEDGE_BASE_PATH (file or directory of JSONL);
 * plus the imported overlay, if any.
 */
async function knowledgeBase(index: LoadedKnowledgeBaseIndex | undefined) {
  const base = index?.faqs ?? packagedKnowledgeBase();
  const overlayPath = optionalEnv('KNOWLEDGE_BASE_OVERLAY');
  const overlay = overlayPath ? await new FileKnowledgeBaseStore(overlayPath).list() : [];
  const byId = new Map([...base, ...overlay].map((faq) => [faq.id, faq]));
  return [...byId.values()];
}

function packagedKnowledgeBase() {
  const path = optionalEnv('KNOWLEDGE_BASE_PATH') ?? DEFAULT_KB_PATH;
  const files = statSync(path).isDirectory()
    ? readdirSync(path)
        .filter((f) => f.endsWith('.jsonl'))
        .sort()
        .map((f) => join(path, f))
    : [path];
  return loadKnowledgeBaseFiles(files);
}

/** OpenSearch Serverless + Titan query vectors when SEARCH_BACKEND=opensearch; else the in-memory index. */
async function searchBackend() {
  if ((optionalEnv('SEARCH_BACKEND') ?? 'embedded') !== 'opensearch') return undefined;
  return {
    backend: await OpenSearchFaqSearch.forServerless({
      endpoint: requireEnv('OPENSEARCH_ENDPOINT'),
      region: requireEnv('AWS_REGION'),
      index: optionalEnv('OPENSEARCH_INDEX') ?? 'faqs',
    }),
    embedder: new TitanEmbedder({
      client: new BedrockRuntimeClient({}),
      modelId: optionalEnv('TITAN_MODEL_ID') ?? 'amazon.titan-embed-text-v2:0',
    }),
  };
}

export const engine = once(async (): Promise<ConversationEngine> => {
  const index = await bucketIndex();
  return createEmbeddedEngine({
    search: await searchBackend(),
    faqs: await knowledgeBase(index),
    model: modelProvider(),
    confidenceThreshold: optionalEnv('CONFIDENCE_THRESHOLD')
      ? numberEnv('CONFIDENCE_THRESHOLD', 0.65)
      : undefined,
    // The index's vectors were embedded by the indexer: nothing is re-embedded at start.
    embeddingCachePath: index?.embeddingsPath ?? optionalEnv('EMBEDDING_CACHE_PATH'),
    modelsDir: optionalEnv('MODELS_DIR'),
  });
});

export const escalationQueue = once(
  // The queue URL's host is only a name: the client's (configured or regional) endpoint does the talking.
  () =>
    new SqsEscalationQueue(
      new SQSClient({ useQueueUrlAsEndpoint: false }),
      requireEnv('ESCALATION_QUEUE_URL'),
    ),
);

/** The support desk with the stores and channels this container needs (workflow/queue when configured). */
export const supportDesk = once(
  () =>
    new SupportDesk({
      conversations: conversationStore(),
      cases: caseStore(),
      connections: connectionStore(),
      notifier: notifier(),
      events: eventPublisher(),
      clock: systemClock,
      turns: optionalEnv('TURN_STATE_MACHINE_ARN') ? turnWorkflow() : undefined,
      escalations: optionalEnv('ESCALATION_QUEUE_URL') ? escalationQueue() : undefined,
    }),
);
