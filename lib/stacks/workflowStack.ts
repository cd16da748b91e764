/**
 * The conversation back end, stateless and redeployed often: the domain event bus and its consumers, the
 * per-turn workflow (Express state machine + agent functions), the escalation queue with its consumer and
 * the escalation workflow (Standard state machine + case-step function) it starts per case.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import { EventBus } from 'aws-cdk-lib/aws-events';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { AppFunction } from '../constructs/appFunction';
import { EngineAssets } from '../constructs/engineAssets';
import { EscalationIntake } from '../constructs/escalationIntake';
import { EscalationWorkflow, type TriageSettings } from '../constructs/escalationWorkflow';
import { EventRouting } from '../constructs/eventRouting';
import type { KnowledgeBaseIndexSource } from '../constructs/knowledgeBaseIndexAccess';
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
}

export class WorkflowStack extends Stack {
  readonly eventBus: EventBus;
  readonly turns: TurnWorkflow;
  readonly escalations: EscalationIntake;
  readonly escalationWorkflow: EscalationWorkflow;
  readonly events: EventRouting;
  readonly teamNotifier: TeamNotifier;
  /** Every dead-letter queue of this stack, by a readable name (alarms watch them all). */
  readonly deadLetterQueues: ReadonlyMap<string, Queue>;

  constructor(scope: Construct, id: string, props: WorkflowStackProps) {
    super(scope, id, props);
    this.eventBus = new EventBus(this, 'EventBus', { eventBusName: props.eventBusName });
    const desk = new SupportDeskWiring({
      tables: props.tables,
      channel: props.channel,
      eventBus: this.eventBus,
      crm: props.crm,
    });

    this.escalationWorkflow = new EscalationWorkflow(this, 'EscalationWorkflow', {
      desk,
      stateMachineName: `${this.stackName}-escalation`,
      triage: props.triage,
      logKey: props.logKey,
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
      environment: desk.environment,
    });
    desk.grant(consoleNotifier, {
      tables: { cases: 'read', conversations: 'read', messages: 'read', connections: 'readWrite' },
      notifiesClients: true,
    });

    this.teamNotifier = new TeamNotifier(this, 'TeamNotifier', {
      tables: props.tables,
      notifications: props.notifications,
    });

    this.events = new EventRouting(this, 'EventRouting', {
      eventBus: this.eventBus,
      consumers: { metricsAggregator, consoleNotifier, teamNotifier: this.teamNotifier.handler },
    });

    this.deadLetterQueues = new Map([
      ['escalations', this.escalations.deadLetterQueue],
      ...[...this.events.deadLetterQueues].map(([rule, queue]) => [`events-${rule}`, queue] as const),
    ]);
  }
}
