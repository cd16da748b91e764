/**
 * The request-facing compute, stateless: the WebSocket routes with their handlers (on the API of the
 * WebSocket stack) and the operator REST API with its handlers, Cognito authorizer and WAF.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { IWebSocketApi } from 'aws-cdk-lib/aws-apigatewayv2';
import type { IUserPool } from 'aws-cdk-lib/aws-cognito';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { AppFunction } from '../constructs/appFunction';
import { ChatRoutes } from '../constructs/chatRoutes';
import { EngineAssets } from '../constructs/engineAssets';
import { grantEndWait } from '../constructs/escalationWorkflow';
import {
  grantKnowledgeBaseIndexRead,
  type KnowledgeBaseIndexSource,
} from '../constructs/knowledgeBaseIndexAccess';
import { OperatorApi } from '../constructs/operatorApi';
import { type CrmSettings, type CustomerChannel, SupportDeskWiring } from '../constructs/supportDeskWiring';
import type { SupportTables } from '../constructs/supportTables';

export interface ApiStackProps extends StackProps {
  readonly tables: SupportTables;
  /** The WebSocket API the chat routes are added to, and its stage's channel. */
  readonly webSocketApi: IWebSocketApi;
  readonly channel: CustomerChannel;
  readonly eventBus: IEventBus;
  readonly turnStateMachine: IStateMachine;
  /** The escalation workflow whose waits agent replies, resolutions and customers leaving end. */
  readonly escalationStateMachine: IStateMachine;
  /** @default the built-in CRM (the customers table) */
  readonly crm?: CrmSettings;
  readonly userPool: IUserPool;
  /** Encrypts the REST access logs. */
  readonly logKey: IKey;
  /** Calibrated confidence threshold, so /api/health builds the same engine as the workflow. */
  readonly confidenceThreshold: number;
  /** @default none: /api/health serves the engine layer's KB */
  readonly knowledgeBaseIndex?: KnowledgeBaseIndexSource;
}

export class ApiStack extends Stack {
  readonly chat: ChatRoutes;
  readonly operatorApi: OperatorApi;
  /** The operator case API's function (reply and resolve end escalation waits). */
  readonly cases: AppFunction;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const desk = new SupportDeskWiring({
      tables: props.tables,
      channel: props.channel,
      eventBus: props.eventBus,
      crm: props.crm,
    });

    this.chat = new ChatRoutes(this, 'Chat', {
      webSocketApi: props.webSocketApi,
      desk,
      turnStateMachine: props.turnStateMachine,
      escalationStateMachine: props.escalationStateMachine,
    });

    const health = new AppFunction(this, 'Health', {
      handler: 'api/health',
      description: 'GET /api/health: DynamoDB and engine status',
      engineAssets: new EngineAssets(this, 'EngineAssets'),
      environment: {
        ...props.tables.environment('conversations'),
        CONFIDENCE_THRESHOLD: String(props.confidenceThreshold),
      },
    });
    props.tables.grant(health, 'read', 'conversations');
    if (props.knowledgeBaseIndex) grantKnowledgeBaseIndexRead(health, props.knowledgeBaseIndex);

    const metrics = new AppFunction(this, 'Metrics', {
      handler: 'api/getMetrics',
      description: 'GET /api/metrics: operational summary from the metrics table',
      environment: props.tables.environment('metrics'),
    });
    props.tables.grant(metrics, 'read', 'metrics');

    this.cases = new AppFunction(this, 'Cases', {
      handler: 'api/cases',
      description: 'Operator case API: list, read, take over, reply, resolve',
      environment: { ...desk.environment, ...desk.crmEnvironment },
    });
    const { cases } = this;
    desk.grant(cases, {
      tables: {
        cases: 'readWrite',
        conversations: 'readWrite',
        messages: 'readWrite',
        connections: 'readWrite',
      },
      publishesEvents: true,
      notifiesClients: true,
      crm: 'mirror',
    });
    // The first reply and a resolution end the case's escalation wait.
    grantEndWait(cases, props.escalationStateMachine.stateMachineArn);

    this.operatorApi = new OperatorApi(this, 'Operators', {
      handlers: { health, metrics, cases },
      userPool: props.userPool,
      logKey: props.logKey,
    });
  }
}
