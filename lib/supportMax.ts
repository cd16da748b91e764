/**
 * The SupportMax stacks and how they depend on each other (arrows: "is used by"):
 *
 *   Data ──► Search ──► Workflow ──► Api ──► Observability
 *     │        WebSocket ──┘ └────────┘ ▲
 *     └──────► Identity ────────────────┘
 *
 * Stateful stacks (Data, Identity, Search) retain their resources; the WebSocket stack holds only the
 * endpoint clients keep; Workflow and Api hold the stateless compute and are redeployed freely.
 */
import type { App, Environment } from 'aws-cdk-lib';
import type { AppConfig } from './config';
import { ApiStack } from './stacks/apiStack';
import { DataStack } from './stacks/dataStack';
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
}

export function createSupportMaxStacks(app: App, config: AppConfig): SupportMaxStacks {
  const env: Environment = { account: config.account, region: config.region };
  const prefix = config.stackPrefix;
  const lower = prefix.toLowerCase();
  const name = (part: string) => ({ env, stackName: `${prefix}-${part}`, description: `SupportMax ${part}` });

  const contentBucketName = `${lower}-content-${config.account}-${config.region}`;
  const data = new DataStack(app, 'Data', { ...name('Data'), contentBucketName });
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
    },
    confidenceThreshold: config.confidenceThreshold,
    searchBackend: config.searchBackend,
    knowledgeBaseIndex,
    crm: config.crm,
    triage: config.triage,
    notifications: config.notifications,
  });
  const api = new ApiStack(app, 'Api', {
    ...name('Api'),
    tables: data.tables,
    webSocketApi: webSocket.api,
    channel: webSocket,
    eventBus: workflow.eventBus,
    turnStateMachine: workflow.turns.stateMachine,
    escalationStateMachine: workflow.escalationWorkflow.stateMachine,
    crm: config.crm,
    userPool: identity.userPool,
    logKey: data.dataKey,
    confidenceThreshold: config.confidenceThreshold,
    knowledgeBaseIndex,
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
  });
  return { data, identity, search, webSocket, workflow, api, observability };
}
