/**
 * The conversation back end, stateless and redeployed often: the domain event bus and its consumers, the
 * per-turn workflow (Express state machine + agent functions) and the escalation queue with its consumer.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import { EventBus } from 'aws-cdk-lib/aws-events';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { AppFunction } from '../constructs/appFunction';
import { EngineAssets } from '../constructs/engineAssets';
import { EscalationIntake } from '../constructs/escalationIntake';
import { EventRouting } from '../constructs/eventRouting';
import type { KnowledgeBaseIndexSource } from '../constructs/knowledgeBaseIndexAccess';
import { type CustomerChannel, SupportDeskWiring } from '../constructs/supportDeskWiring';
import type { SupportTables } from '../constructs/supportTables';
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
  /** @default no CRM access for the escalation stage */
  readonly crmSecretName?: string;
}

export class WorkflowStack extends Stack {
  readonly eventBus: EventBus;
  readonly turns: TurnWorkflow;
  readonly escalations: EscalationIntake;
  readonly events: EventRouting;
  /** Every dead-letter queue of this stack, by a readable name (alarms watch them all). */
  readonly deadLetterQueues: ReadonlyMap<string, Queue>;

  constructor(scope: Construct, id: string, props: WorkflowStackProps) {
    super(scope, id, props);
    this.eventBus = new EventBus(this, 'EventBus', { eventBusName: props.eventBusName });
    const desk = new SupportDeskWiring({
      tables: props.tables,
      channel: props.channel,
      eventBus: this.eventBus,
    });

    this.escalations = new EscalationIntake(this, 'Escalations', {
      desk,
      crmSecretName: props.crmSecretName,
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

    this.events = new EventRouting(this, 'EventRouting', {
      eventBus: this.eventBus,
      consumers: { metricsAggregator, consoleNotifier },
    });

    this.deadLetterQueues = new Map([
      ['escalations', this.escalations.deadLetterQueue],
      ...[...this.events.deadLetterQueues].map(([rule, queue]) => [`events-${rule}`, queue] as const),
    ]);
  }
}
