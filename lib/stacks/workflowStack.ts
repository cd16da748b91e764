/**
 * The conversation back end, stateless and redeployed often: the domain event bus and its consumers (metrics,
 * consoles, team notifier, audit recorder, CRM sync), the per-turn workflow (Express state machine + agent
 * functions), the escalation queue with its consumer, the escalation workflow (Standard state machine +
 * case-step function) it starts per case, and, with the e-mail channel, the inbound mail intake.
 */
import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { EventBus } from 'aws-cdk-lib/aws-events';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { AppFunction } from '../constructs/appFunction';
import type { AttachmentLocation } from '../constructs/attachmentAccess';
import { type AuditArchiveLocation, grantAuditAppend } from '../constructs/auditArchive';
import type { EmailChannelSettings } from '../constructs/emailChannel';
import { EmailIntake } from '../constructs/emailIntake';
import { EngineAssets } from '../constructs/engineAssets';
import { EscalationIntake } from '../constructs/escalationIntake';
import { EscalationWorkflow, type TriageSettings } from '../constructs/escalationWorkflow';
import { EventRouting } from '../constructs/eventRouting';
import type { KnowledgeBaseIndexSource } from '../constructs/knowledgeBaseIndexAccess';
import {
  CRM_PACKAGES,
  CRM_PACKAGES_EXCLUDE,
  DESK_PACKAGES,
  MAIL_PARSER_PACKAGES,
  PackageLayer,
} from '../constructs/packageLayer';
import { type CrmSettings, type CustomerChannel, SupportDeskWiring } from '../constructs/supportDeskWiring';
import type { SupportTables } from '../constructs/supportTables';
import { type TeamNotificationSettings, TeamNotifier } from '../constructs/teamNotifier';
import { type AnswerModels, TurnWorkflow } from '../constructs/turnWorkflow';
import type { VectorCollection } from '../constructs/vectorCollection';

export interface WorkflowStackProps extends StackProps {
  readonly tables: SupportTables;
  readonly channel: CustomerChannel;
  readonly knowledgeCollection: VectorCollection;
  /** Encrypts the workflow's execution log. */
  readonly logKey: IKey;
  /** Name of the domain event bus. */
  readonly eventBusName: string;
  readonly answerModels: AnswerModels;
  readonly confidenceThreshold: number;
  readonly searchBackend: 'embedded' | 'opensearch';
  /** @default none: engine functions serve the engine layer's KB */
  readonly knowledgeBaseIndex?: KnowledgeBaseIndexSource;
  /** @default the built-in CRM (the customers table) */
  readonly crm?: CrmSettings;
  /** @default the default priority rules and SLA targets */
  readonly triage?: TriageSettings;
  /** @default no team e-mail (the notifier logs) */
  readonly notifications?: TeamNotificationSettings;
  /** The audit log's archive bucket (the audit table is in `tables`). */
  readonly auditArchive: AuditArchiveLocation;
  /** @default no e-mail channel: no intake, and no handler mails */
  readonly email?: WorkflowEmailChannel;
}

/** The e-mail channel as the workflow sees it: its names and the key of the mail bucket. */
export interface WorkflowEmailChannel {
  readonly settings: EmailChannelSettings;
  readonly mailKey: IKey;
  /** Where e-mail attachments are kept. */
  readonly attachments: AttachmentLocation;
}

export class WorkflowStack extends Stack {
  readonly eventBus: EventBus;
  readonly turns: TurnWorkflow;
  readonly escalations: EscalationIntake;
  readonly escalationWorkflow: EscalationWorkflow;
  readonly events: EventRouting;
  readonly teamNotifier: TeamNotifier;
  /** Appends model calls, escalations and case updates to the audit log. */
  readonly auditRecorder: AppFunction;
  /** Mirrors agent replies and case closures into the CRM. */
  readonly crmSync: AppFunction;
  /** Inbound e-mail, when the channel is configured. */
  readonly emailIntake?: EmailIntake;
  /** Every dead-letter queue of this stack, by a readable name (alarms watch them all). */
  readonly deadLetterQueues: ReadonlyMap<string, Queue>;

  constructor(scope: Construct, id: string, props: WorkflowStackProps) {
    super(scope, id, props);
    this.eventBus = new EventBus(this, 'EventBus', { eventBusName: props.eventBusName });
    const deskPackages = new PackageLayer(this, 'DeskPackages', {
      packages: DESK_PACKAGES,
      description: 'SupportMax desk handlers: nodemailer (e-mail replies)',
    });
    const crmPackages = new PackageLayer(this, 'CrmPackages', {
      packages: CRM_PACKAGES,
      exclude: CRM_PACKAGES_EXCLUDE,
      description: 'SupportMax CRM handlers: jsforce (Salesforce client)',
    });
    const desk = new SupportDeskWiring({
      tables: props.tables,
      channel: props.channel,
      eventBus: this.eventBus,
      crm: props.crm,
      email: props.email?.settings,
      packageLayers: [deskPackages],
    });

    this.escalationWorkflow = new EscalationWorkflow(this, 'EscalationWorkflow', {
      desk,
      stateMachineName: `${this.stackName}-escalation`,
      triage: props.triage,
      logKey: props.logKey,
      crmPackages,
    });
    this.escalations = new EscalationIntake(this, 'Escalations', {
      desk,
      workflow: this.escalationWorkflow,
    });

    this.turns = new TurnWorkflow(this, 'Turns', {
      desk,
      engineAssets: new EngineAssets(this, 'EngineAssets'),
      escalationQueue: this.escalations.queue,
      answerModels: props.answerModels,
      confidenceThreshold: props.confidenceThreshold,
      searchBackend: props.searchBackend,
      knowledgeCollection: props.knowledgeCollection,
      knowledgeBaseIndex: props.knowledgeBaseIndex,
      logKey: props.logKey,
      triage: props.triage,
    });

    const metricsAggregator = new AppFunction(this, 'MetricsAggregator', {
      handler: 'events/metricsAggregator',
      description: 'Domain events to EMF metrics and the per-bucket metrics table',
      environment: props.tables.environment('metrics'),
    });
    props.tables.grant(metricsAggregator, 'readWrite', 'metrics');

    const consoleNotifier = new AppFunction(this, 'ConsoleNotifier', {
      handler: 'events/consoleNotifier',
      description: 'Domain events to the operator consoles (case and conversation updates)',
      packageLayers: desk.packageLayers,
      environment: desk.environment,
    });
    desk.grant(consoleNotifier, {
      tables: { cases: 'read', conversations: 'read', messages: 'read', connections: 'readWrite' },
      notifiesClients: true,
    });

    this.teamNotifier = new TeamNotifier(this, 'TeamNotifier', {
      tables: props.tables,
      notifications: props.notifications,
      packageLayers: desk.packageLayers,
    });

    this.auditRecorder = new AppFunction(this, 'AuditRecorder', {
      handler: 'events/auditRecorder',
      description: 'Domain events to audit entries: the append-only audit table and the locked S3 archive',
    });
    grantAuditAppend(this.auditRecorder, props.tables, props.auditArchive);

    this.crmSync = new AppFunction(this, 'CrmSync', {
      handler: 'events/crmSync',
      description: 'Agent replies and closures mirrored into the CRM (Salesforce CaseComment, Case close)',
      // A CRM login plus one guarded call, each within CRM_TIMEOUT_MS (5 s).
      timeout: Duration.seconds(30),
      packageLayers: [...desk.packageLayers, crmPackages],
      environment: { ...desk.environment, ...desk.crmEnvironment },
    });
    desk.grant(this.crmSync, {
      // The case names its CRM mirror; a reply's text is read from the messages.
      tables: { cases: 'read', messages: 'read' },
      // Comments and closes mirrored cases only; built-in CRM cases are skipped (no customers-table access).
      crm: 'mirror',
    });

    this.events = new EventRouting(this, 'EventRouting', {
      eventBus: this.eventBus,
      consumers: {
        metricsAggregator,
        consoleNotifier,
        teamNotifier: this.teamNotifier.handler,
        auditRecorder: this.auditRecorder,
        crmSync: this.crmSync,
      },
    });

    if (props.email) {
      this.emailIntake = new EmailIntake(this, 'EmailIntake', {
        desk,
        email: props.email.settings,
        mailKey: props.email.mailKey,
        attachments: props.email.attachments,
        turnStateMachine: this.turns.stateMachine,
        packageLayers: [
          crmPackages,
          new PackageLayer(this, 'MailParserPackages', {
            packages: MAIL_PARSER_PACKAGES,
            description: 'SupportMax e-mail intake: mailparser (MIME)',
          }),
        ],
      });
    }

    this.deadLetterQueues = new Map([
      ['escalations', this.escalations.deadLetterQueue],
      ...(this.emailIntake ? [['email-intake', this.emailIntake.deadLetterQueue] as const] : []),
      ...[...this.events.deadLetterQueues].map(([rule, queue]) => [`events-${rule}`, queue] as const),
    ]);
  }
}
