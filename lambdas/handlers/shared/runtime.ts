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
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { BedrockModelProvider } from '#adapters/bedrockModelProvider';
import { documentClient } from '#adapters/dynamoDocumentClient';
import { DynamoEmailStore } from '#adapters/dynamoEmailStore';
import {
  DynamoCaseStore,
  DynamoConnectionStore,
  DynamoConversationStore,
} from '#adapters/dynamoSupportStores';
import {
  type EmailAttachmentStore,
  FileAttachmentStore,
  S3AttachmentStore,
} from '#adapters/emailAttachmentStore';
import { EmlFileSender, SesEmailSender } from '#adapters/emailOutbox';
import { EMAIL_TABLE } from '#adapters/emailTableDefinition';
import { createEmbeddedEngine } from '#adapters/engineFactory';
import { EventBridgePublisher } from '#adapters/eventBridgePublisher';
import { FileKnowledgeBaseStore, loadKnowledgeBaseFiles } from '#adapters/fileKnowledgeBaseStore';
import { type LoadedKnowledgeBaseIndex, loadKnowledgeBaseIndex } from '#adapters/knowledgeBaseIndex';
import { OpenSearchFaqSearch } from '#adapters/openSearchFaqSearch';
import { SfnTaskCallbacks } from '#adapters/sfnTaskCallbacks';
import { SqsEscalationQueue } from '#adapters/sqsEscalationQueue';
import { TABLES } from '#adapters/tableDefinitions';
import { TitanEmbedder } from '#adapters/titanEmbedder';
import { SfnTurnWorkflow } from '#adapters/turnWorkflow';
import { WebSocketNotifier } from '#adapters/websocketNotifier';
import type { WaitOutcome } from '#core/caseWorkflow';
import type { ConversationEngine } from '#core/conversationEngine';
import type { EventPublisher } from '#core/domainEvents';
import { EmailChannel } from '#core/emailChannel';
import type { EmailSender } from '#core/emailThreading';
import { ExtractiveAnswerer } from '#core/extractiveAnswerer';
import { FallbackModelProvider } from '#core/fallbackModelProvider';
import type { ModelProvider } from '#core/ports';
import { parseSlaOverrides, SlaPolicy, type SlaTier } from '#core/slaPolicy';
import { type EmailReplies, SupportDesk } from '#core/supportDesk';
import type { CaseRecord } from '#core/supportRecords';
import { DEFAULT_MAX_INPUT_TOKENS } from '#core/tokenBudget';
import { parsePriorityRules } from '#core/triageRules';
import { domainClock } from './clock';
import { numberEnv, optionalEnv, requireEnv } from './env';
import { logger } from './powertools';

/** A lazily built module-level singleton (one per Lambda container or local process). */
export const once = <T>(build: () => T) => {
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
  () =>
    new DynamoConnectionStore(documentClient(), requireEnv(TABLES.connections.envVar), () =>
      domainClock.now(),
    ),
);

/** WebSocket callback URL: https://{api}.execute-api.{region}.amazonaws.com/{stage} on AWS. */
export const notifier = once(() => WebSocketNotifier.forEndpoint(requireEnv('WEBSOCKET_CALLBACK_URL')));

export const eventPublisher = once(
  (): EventPublisher =>
    new EventBridgePublisher({
      client: new EventBridgeClient({}),
      eventBusName: requireEnv('EVENT_BUS_NAME'),
      clock: domainClock,
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
    maxInputTokensPerQuery: numberEnv('MAX_INPUT_TOKENS_PER_QUERY', DEFAULT_MAX_INPUT_TOKENS),
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

/** Starts the escalation workflow of a case (one execution per case: named after the case id). */
export const escalationWorkflow = once(
  () =>
    new SfnTurnWorkflow({
      client: new SFNClient({}),
      stateMachineArn: requireEnv('ESCALATION_STATE_MACHINE_ARN'),
    }),
);

/** Operators' priority rule table (JSON in TRIAGE_RULES, see docs/escalation.md); the default otherwise. */
export const priorityRules = once(() => {
  const json = optionalEnv('TRIAGE_RULES');
  return json ? parsePriorityRules(json, 'TRIAGE_RULES') : undefined;
});

export const slaPolicy = once(() => {
  const overrides = optionalEnv('SLA_FIRST_RESPONSE_MINUTES');
  return new SlaPolicy({
    ...(overrides ? { firstResponseMinutes: parseSlaOverrides(overrides) } : {}),
    timeScale: numberEnv('SLA_TIME_SCALE', 1),
  });
});

/** Ends the escalation workflow's wait for an agent (SendTaskSuccess with the token parked on the case). */
export const caseWaits = once(() => {
  const callbacks = new SfnTaskCallbacks(new SFNClient({}));
  return {
    releaseWait: async (record: CaseRecord, outcome: WaitOutcome) => {
      if (record.waitToken) await callbacks.succeed(record.waitToken, { outcome });
    },
  };
});

/** E-mail attachments: files under ATTACHMENTS_DIR locally, TRANSCRIPT_BUCKET on AWS; none without either. */
export const attachmentStore = once((): EmailAttachmentStore | undefined => {
  const dir = optionalEnv('ATTACHMENTS_DIR');
  if (dir) return new FileAttachmentStore(dir);
  const bucket = optionalEnv('TRANSCRIPT_BUCKET');
  return bucket ? new S3AttachmentStore(new S3Client({}), bucket) : undefined;
});

export const emailStore = once(() => new DynamoEmailStore(documentClient(), requireEnv(EMAIL_TABLE.envVar)));

/** .eml files under EMAIL_OUTBOX_DIR locally (someone can open them); SES on AWS. */
export const emailSender = once(
  (): EmailSender =>
    optionalEnv('EMAIL_OUTBOX_DIR')
      ? new EmlFileSender({ outboxDir: requireEnv('EMAIL_OUTBOX_DIR') })
      : new SesEmailSender({
          client: new SESv2Client({}),
          configurationSetName: optionalEnv('SES_CONFIGURATION_SET'),
        }),
);

/**
 * The e-mail channel: threading, loop protection, replies; the desk answers the mails. Intake (which also
 * finds the sender in the CRM) builds its own with `buildEmailChannel` (crmRuntime.ts); replies use this one.
 */
export function buildEmailChannel(
  findCustomerByEmail?: (email: string) => Promise<string | undefined>,
): EmailChannel {
  return new EmailChannel({
    sender: emailSender(),
    log: emailStore(),
    threads: emailStore(),
    clock: domainClock,
    supportAddress: {
      address: requireEnv('SUPPORT_EMAIL_ADDRESS'),
      name: optionalEnv('SUPPORT_EMAIL_NAME') ?? 'SupportMax',
    },
    deliver: (turn) => supportDesk().receiveEmail(turn),
    ...(findCustomerByEmail ? { findCustomerByEmail } : {}),
    conversationOfCase: async (caseId) => (await caseStore().getCase(caseId))?.conversationId,
    ...(optionalEnv('FAQ_URL_TEMPLATE')
      ? {
          faqUrl: (faqId: string) =>
            requireEnv('FAQ_URL_TEMPLATE').replace('{id}', encodeURIComponent(faqId)),
        }
      : {}),
    logger,
  });
}

export const emailChannel = once(() => buildEmailChannel());

/** Answers and escalation notices of e-mail conversations go out as replies; escalations promise the SLA. */
const emailReplies: EmailReplies = {
  async reply(conversation, message) {
    let replyText = plainText(message.text);
    if (message.escalated && message.caseId) replyText += await slaPromise(message.caseId);
    await emailChannel().replyToLastInbound(conversation.conversationId, {
      outcome: message.escalated ? 'escalated' : 'answered',
      replyText,
      ...(message.caseId ? { caseId: message.caseId } : {}),
      ...(message.citations ? { citations: message.citations } : {}),
    });
  },
  async agentReply(conversationId, agentName, text) {
    await emailChannel().sendAgentReply(conversationId, agentName, text);
  },
};

/** The chat renders Markdown; a plain-text mail shows `**bold**` and `[text](url)` literally. */
const plainText = (markdown: string) =>
  markdown.replace(/\*\*(.+?)\*\*/g, '$1').replace(/\[([^\]]+)\]\((https?:[^)\s]+)\)/g, '$1 ($2)');

async function slaPromise(caseId: string): Promise<string> {
  const record = await caseStore().getCase(caseId);
  if (!record) return '';
  // Until the escalation workflow has found the customer, the promise is the default tier's (the longest).
  const tier = record.tier;
  const seconds = slaPolicy().firstResponseSeconds(record.priority, (tier ?? 'unknown') as SlaTier);
  const within =
    seconds < 5400
      ? `${Math.max(1, Math.round(seconds / 60))} minutes`
      : `${Math.round(seconds / 3600)} hours`;
  return `\n\nWe aim to send you a first personal answer within ${within}.`;
}

/** The support desk with the stores and channels this container needs (workflow/queue when configured). */
export const supportDesk = once(
  () =>
    new SupportDesk({
      conversations: conversationStore(),
      cases: caseStore(),
      connections: connectionStore(),
      notifier: notifier(),
      events: eventPublisher(),
      clock: domainClock,
      turns: optionalEnv('TURN_STATE_MACHINE_ARN') ? turnWorkflow() : undefined,
      escalations: optionalEnv('ESCALATION_QUEUE_URL') ? escalationQueue() : undefined,
      caseWorkflow: caseWaits(),
      priorityRules: priorityRules(),
      logger,
      emailReplies: optionalEnv(EMAIL_TABLE.envVar) ? emailReplies : undefined,
    }),
);
