/**
 * The request-facing compute, stateless: the WebSocket routes with their handlers (on the API of the
 * WebSocket stack) and the operator REST API (health, metrics, cases, audit) with its handlers, Cognito
 * authorizer and WAF.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { IWebSocketApi } from 'aws-cdk-lib/aws-apigatewayv2';
import type { IUserPool } from 'aws-cdk-lib/aws-cognito';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { AppFunction } from '../constructs/appFunction';
import { type AttachmentLocation, grantAttachmentErase } from '../constructs/attachmentAccess';
import { type AuditArchiveLocation, grantAuditAppend, grantAuditRead } from '../constructs/auditArchive';
import { ChatRoutes } from '../constructs/chatRoutes';
import type { EmailChannelSettings } from '../constructs/emailChannel';
import { EngineAssets } from '../constructs/engineAssets';
import { grantEndWait } from '../constructs/escalationWorkflow';
import {
  grantKnowledgeBaseIndexRead,
  type KnowledgeBaseIndexSource,
} from '../constructs/knowledgeBaseIndexAccess';
import { OperatorApi } from '../constructs/operatorApi';
import { DESK_PACKAGES, PackageLayer } from '../constructs/packageLayer';
import { type CustomerChannel, SupportDeskWiring } from '../constructs/supportDeskWiring';
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
  readonly userPool: IUserPool;
  /** Encrypts the REST access logs. */
  readonly logKey: IKey;
  /** Calibrated confidence threshold, so /api/health builds the same engine as the workflow. */
  readonly confidenceThreshold: number;
  /** @default none: /api/health serves the engine layer's KB */
  readonly knowledgeBaseIndex?: KnowledgeBaseIndexSource;
  /** The audit log's archive: operator actions are appended to it. */
  readonly auditArchive: AuditArchiveLocation;
  /** @default no e-mail channel: agent replies reach chat customers only */
  readonly email?: EmailChannelSettings;
  /** E-mail attachments (with the e-mail channel): erased with a customer's data. */
  readonly attachments?: AttachmentLocation;
  /** Secrets Manager name of the customer-token secret. @default none: anonymous customers only */
  readonly customerTokenSecretName?: string;
}

export class ApiStack extends Stack {
  readonly chat: ChatRoutes;
  readonly operatorApi: OperatorApi;
  /** The operator case API's function (reply and resolve end escalation waits). */
  readonly cases: AppFunction;
  /** GET /api/audit: reads the audit log by day. */
  readonly audit: AppFunction;
  /** GET | DELETE /api/customers/{customerId}: GDPR export and erasure. */
  readonly customers: AppFunction;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    // The CRM is reached from the workflow stack only (case step, CRM sync): no CRM settings here.
    const desk = new SupportDeskWiring({
      tables: props.tables,
      channel: props.channel,
      eventBus: props.eventBus,
      email: props.email,
      packageLayers: [
        new PackageLayer(this, 'DeskPackages', {
          packages: DESK_PACKAGES,
          description: 'SupportMax desk handlers: nodemailer (e-mail replies)',
        }),
      ],
    });

    this.chat = new ChatRoutes(this, 'Chat', {
      webSocketApi: props.webSocketApi,
      desk,
      turnStateMachine: props.turnStateMachine,
      escalationStateMachine: props.escalationStateMachine,
      customerTokenSecretName: props.customerTokenSecretName,
    });

    const health = new AppFunction(this, 'Health', {
      handler: 'api/health',
      description: 'GET /api/health: DynamoDB and engine status',
      engineAssets: new EngineAssets(this, 'EngineAssets'),
      packageLayers: desk.packageLayers,
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
      description: 'Operator case API: list, read, take over, reply, resolve (audited)',
      packageLayers: desk.packageLayers,
      environment: { ...desk.environment, ...desk.emailEnvironment },
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
      // Agent replies to e-mail conversations go out by mail (CRM mirroring is the CRM sync's, by event).
      sendsEmail: true,
    });
    // The first reply and a resolution end the case's escalation wait.
    grantEndWait(cases, props.escalationStateMachine.stateMachineArn);
    // Takeovers, replies and resolutions are audited under the signed-in operator.
    grantAuditAppend(cases, props.tables, props.auditArchive);

    this.audit = new AppFunction(this, 'Audit', {
      handler: 'api/audit',
      description: 'GET /api/audit: one UTC day of the audit log, a page at a time (supervisors)',
    });
    grantAuditRead(this.audit, props.tables);

    // GDPR export and erasure: reads and deletes a customer's records, never writes them.
    this.customers = new AppFunction(this, 'Customers', {
      handler: 'api/customers',
      description: "GET | DELETE /api/customers/{id}: export or erase a customer's data (admins, audited)",
      packageLayers: desk.packageLayers,
      environment: {
        ...desk.environment,
        ...(props.email ? props.tables.environment('emailThreads') : {}),
      },
    });
    props.tables.grant(this.customers, 'erase', 'conversations', 'messages', 'cases', 'connections');
    if (props.email) props.tables.grant(this.customers, 'erase', 'emailThreads');
    if (props.attachments) grantAttachmentErase(this.customers, props.attachments);
    // Erasing a waiting case ends its escalation workflow's wait first.
    grantEndWait(this.customers, props.escalationStateMachine.stateMachineArn);
    grantAuditAppend(this.customers, props.tables, props.auditArchive);

    this.operatorApi = new OperatorApi(this, 'Operators', {
      handlers: { health, metrics, cases, audit: this.audit, customers: this.customers },
      userPool: props.userPool,
      logKey: props.logKey,
    });
  }
}
