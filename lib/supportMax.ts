/**
 * The SupportMax stacks and how they depend on each other (arrows: "is used by"):
 *
 *   Data ──► Search ──► Workflow ──► Api ──► Observability
 *    │ │       WebSocket ──┘ └────────┘ ▲
 *    │ └─────► Identity ────────────────┘
 *    └───────► Email (with the e-mail channel only: SES identity, configuration set, receipt rules)
 *
 * Stateful stacks (Data, Identity, Search) retain their resources; Email holds the long-lived SES set-up (its
 * DKIM tokens are in DNS); the WebSocket stack holds only the endpoint clients keep; Workflow and Api hold the
 * stateless compute and are redeployed freely.
 */
import type { App, Environment } from 'aws-cdk-lib';
import type { AppConfig } from './config';
import type { EmailChannelSettings } from './constructs/emailChannel';
import { ApiStack } from './stacks/apiStack';
import { DataStack } from './stacks/dataStack';
import { EmailStack } from './stacks/emailStack';
import { IdentityStack } from './stacks/identityStack';
import { ObservabilityStack } from './stacks/observabilityStack';
import { SearchStack } from './stacks/searchStack';
import { WebSocketStack } from './stacks/webSocketStack';
import { WorkflowStack } from './stacks/workflowStack';

export interface SupportMaxStacks {
  readonly data: DataStack;
  readonly identity: IdentityStack;
  readonly search: SearchStack;
  readonly webSocket: WebSocketStack;
  readonly workflow: WorkflowStack;
  readonly api: ApiStack;
  readonly observability: ObservabilityStack;
  /** Only when the e-mail channel is configured. */
  readonly email?: EmailStack;
}

export function createSupportMaxStacks(app: App, config: AppConfig): SupportMaxStacks {
  const env: Environment = { account: config.account, region: config.region };
  const prefix = config.stackPrefix;
  const lower = prefix.toLowerCase();
  const name = (part: string) => ({ env, stackName: `${prefix}-${part}`, description: `SupportMax ${part}` });

  const contentBucketName = `${lower}-content-${config.account}-${config.region}`;
  const auditBucketName = `${lower}-audit-${config.account}-${config.region}`;
  // Every e-mail resource is named here, so the stacks that use one build its ARN without a reference.
  const emailChannel: EmailChannelSettings | undefined = config.email && {
    ...config.email,
    configurationSetName: `${prefix}-email`,
    receiptRuleSetName: `${prefix}-inbound`,
    receiptRuleName: `${prefix}-support-address`,
    mailBucketName: `${lower}-mail-${config.account}-${config.region}`,
  };
  const data = new DataStack(app, 'Data', {
    ...name('Data'),
    contentBucketName,
    auditBucketName,
    auditRetentionDays: config.auditRetentionDays,
    email: emailChannel,
  });
  const auditArchive = { bucketName: auditBucketName, encryptionKey: data.dataKey };
  let email: EmailStack | undefined;
  if (emailChannel) {
    email = new EmailStack(app, 'Email', { ...name('Email'), email: emailChannel });
    // SES checks, when the rule is created, that it may write to the mail bucket: bucket and key policy first.
    email.addStackDependency(data, 'the receipt rule stores mail in the mail bucket');
  }
  const identity = new IdentityStack(app, 'Identity', name('Identity'));
  const search = new SearchStack(app, 'Search', {
    ...name('Search'),
    collectionName: `${lower.slice(0, 17)}-kb`,
    contentBucketName,
    dataKey: data.dataKey,
    // With the embedded backend the collection serves no traffic: no standby replica (half the OCUs).
    standbyReplicas: config.searchBackend === 'opensearch',
    searchBackend: config.searchBackend,
  });
  // Embedded retrieval loads the index the indexer builds in the content bucket.
  const knowledgeBaseIndex =
    config.searchBackend === 'embedded'
      ? { bucketName: contentBucketName, encryptionKey: data.dataKey }
      : undefined;
  const webSocket = new WebSocketStack(app, 'WebSocket', { ...name('WebSocket'), logKey: data.dataKey });
  const workflow = new WorkflowStack(app, 'Workflow', {
    ...name('Workflow'),
    tables: data.tables,
    channel: webSocket,
    knowledgeCollection: search.collection,
    logKey: data.dataKey,
    eventBusName: lower,
    answerModels: {
      simpleModelId: config.bedrockSimpleModelId,
      complexModelId: config.bedrockComplexModelId,
      maxOutputTokens: config.maxOutputTokens,
      timeoutMs: config.modelTimeoutMs,
      maxInputTokensPerQuery: config.maxInputTokensPerQuery,
    },
    confidenceThreshold: config.confidenceThreshold,
    searchBackend: config.searchBackend,
    knowledgeBaseIndex,
    crm: config.crm,
    triage: config.triage,
    notifications: config.notifications,
    auditArchive,
    email: emailChannel && {
      settings: emailChannel,
      mailKey: data.dataKey,
      attachments: { bucketName: contentBucketName, encryptionKey: data.dataKey },
    },
  });
  const api = new ApiStack(app, 'Api', {
    ...name('Api'),
    tables: data.tables,
    webSocketApi: webSocket.api,
    channel: webSocket,
    eventBus: workflow.eventBus,
    turnStateMachine: workflow.turns.stateMachine,
    escalationStateMachine: workflow.escalationWorkflow.stateMachine,
    userPool: identity.userPool,
    logKey: data.dataKey,
    confidenceThreshold: config.confidenceThreshold,
    knowledgeBaseIndex,
    auditArchive,
    email: emailChannel,
    attachments: emailChannel && { bucketName: contentBucketName, encryptionKey: data.dataKey },
    customerTokenSecretName: config.customerTokenSecretName,
  });
  const observability = new ObservabilityStack(app, 'Observability', {
    ...name('Observability'),
    deadLetterQueues: workflow.deadLetterQueues,
    turnStateMachine: workflow.turns.stateMachine,
    escalationStateMachine: workflow.escalationWorkflow.stateMachine,
    restApi: api.operatorApi.api,
    automationTarget: config.automationTarget,
    alarmEmail: config.alarmEmail,
    hourlyCostBaselineUsd: config.hourlyCostBaselineUsd,
    dashboardPrefix: prefix,
    emailReputationAlarms: emailChannel !== undefined,
  });
  return { data, identity, search, webSocket, workflow, api, observability, ...(email ? { email } : {}) };
}
