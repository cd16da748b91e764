/**
 * The escalation stage's queue: escalated cases wait here for the intake function, which starts each case's
 * escalation workflow and announces the case to the operator consoles. Failed messages are retried three
 * times, then parked in a dead-letter queue.
 */
import { Duration } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AppFunction } from './appFunction';
import type { EscalationWorkflow } from './escalationWorkflow';
import type { SupportDeskWiring } from './supportDeskWiring';

export const ESCALATION_MAX_RECEIVE_COUNT = 3;

export interface EscalationIntakeProps {
  readonly desk: SupportDeskWiring;
  /** The workflow started for every case (the CRM is reached from there, not here). */
  readonly workflow: EscalationWorkflow;
}

export class EscalationIntake extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly handler: AppFunction;

  constructor(scope: Construct, id: string, props: EscalationIntakeProps) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const timeout = Duration.seconds(10);
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Six times the consumer's timeout, as Lambda recommends for SQS event sources.
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: ESCALATION_MAX_RECEIVE_COUNT },
    });

    this.handler = new AppFunction(this, 'Handler', {
      handler: 'queue/escalationIntake',
      description: 'Escalation queue consumer: starts the case workflow, announces the case to the consoles',
      timeout,
      packageLayers: props.desk.packageLayers,
      environment: {
        ...props.desk.environment,
        ESCALATION_STATE_MACHINE_ARN: props.workflow.stateMachine.stateMachineArn,
      },
    });
    props.desk.grant(this.handler, {
      tables: { cases: 'read', connections: 'readWrite' },
      notifiesClients: true,
    });
    props.workflow.grantStartExecution(this.handler);
    this.handler.addEventSource(
      new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true }),
    );
  }
}
