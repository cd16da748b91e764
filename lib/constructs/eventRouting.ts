/**
 * EventBridge rules for the domain events, one per entry of lambdas/adapters/eventRoutes.ts (the list the
 * local bus uses too). Each target retries, then parks undeliverable events in its own dead-letter queue.
 * EventBridge invokes the consumer asynchronously, so it only sees delivery failures: the consumer's own
 * failures (a CRM outage, a throttled audit write) are retried by Lambda, then sent to the same queue.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import { type IEventBus, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { EVENT_ROUTES, type EventConsumer } from '#adapters/eventRoutes';

export const EVENT_TARGET_RETRY_ATTEMPTS = 8;
/** Lambda's own retries of a consumer that failed (its maximum), before the event goes to the queue. */
export const CONSUMER_RETRY_ATTEMPTS = 2;

export interface EventRoutingProps {
  readonly eventBus: IEventBus;
  /** The function behind every consumer named in EVENT_ROUTES. */
  readonly consumers: Readonly<Record<EventConsumer, IFunction>>;
}

export class EventRouting extends Construct {
  /** Dead-letter queue of each rule's target, by rule name. */
  readonly deadLetterQueues: ReadonlyMap<string, Queue>;

  constructor(scope: Construct, id: string, props: EventRoutingProps) {
    super(scope, id);
    const dlqs = new Map<string, Queue>();
    const withFailureDestination = new Set<IFunction>();
    for (const route of EVENT_ROUTES) {
      const consumer = props.consumers[route.consumer];
      if (!consumer) throw new Error(`EventRouting ${id}: no function for consumer ${route.consumer}`);
      const name = route.rule.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase());
      const dlq = new Queue(this, `${name}DeadLetterQueue`, {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      Validations.of(dlq).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason: `This queue is the dead-letter queue of the ${route.rule} rule's target and its consumer's failures.`,
      });
      new Rule(this, `${name}Rule`, {
        eventBus: props.eventBus,
        description: `SupportMax domain events for ${route.consumer}`,
        eventPattern: {
          source: [...route.pattern.source],
          ...('detail-type' in route.pattern ? { detailType: [...route.pattern['detail-type']] } : {}),
        },
        targets: [
          new LambdaFunction(consumer, {
            deadLetterQueue: dlq,
            retryAttempts: EVENT_TARGET_RETRY_ATTEMPTS,
            maxEventAge: Duration.hours(2),
          }),
        ],
      });
      // A function has one asynchronous-invoke configuration: the first rule of a consumer names its queue.
      if (!withFailureDestination.has(consumer)) {
        consumer.configureAsyncInvoke({
          retryAttempts: CONSUMER_RETRY_ATTEMPTS,
          maxEventAge: Duration.hours(2),
          onFailure: new SqsDestination(dlq),
        });
        withFailureDestination.add(consumer);
      }
      dlqs.set(route.rule, dlq);
    }
    this.deadLetterQueues = dlqs;
  }
}
