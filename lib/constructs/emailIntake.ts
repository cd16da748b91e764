/**
 * Inbound e-mail intake: every raw mail SES stores under inbound/ of the mail bucket is announced by an S3
 * notification on a queue, whose consumer (lambdas/handlers/queue/emailIntake.ts) parses it, finds the
 * sender in the CRM and hands it to the support desk, which starts the turn workflow and replies by mail.
 * Failed mails are retried three times, then parked in a dead-letter queue.
 */
import { Aws, Duration, Validations } from 'aws-cdk-lib';
import { Grant, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Bucket, EventType } from 'aws-cdk-lib/aws-s3';
import { SqsDestination } from 'aws-cdk-lib/aws-s3-notifications';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { AppFunction } from './appFunction';
import { type AttachmentLocation, grantAttachmentWrite } from './attachmentAccess';
import { type EmailChannelSettings, INBOUND_MAIL_PREFIX } from './emailChannel';
import { grantKeyThroughS3 } from './knowledgeBaseIndexAccess';
import type { PackageLayer } from './packageLayer';
import type { SupportDeskWiring } from './supportDeskWiring';

export const EMAIL_INTAKE_MAX_RECEIVE_COUNT = 3;

export interface EmailIntakeProps {
  /** Desk wiring with the e-mail channel configured (replies and duplicate answers go out by mail). */
  readonly desk: SupportDeskWiring;
  readonly email: EmailChannelSettings;
  /** Key encrypting the mail bucket. */
  readonly mailKey: IKey;
  /** The turn workflow each new mail starts (the desk answers it like a chat message). */
  readonly turnStateMachine: IStateMachine;
  /** Layers of the packages intake imports besides the desk's: the CRM client (jsforce) and mailparser. */
  readonly packageLayers: readonly PackageLayer[];
  /** Where attachments are kept (the content bucket). */
  readonly attachments: AttachmentLocation;
  /** @default 30 s: parse, CRM lookup, desk, workflow start */
  readonly timeout?: Duration;
}

export class EmailIntake extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly handler: AppFunction;

  constructor(scope: Construct, id: string, props: EmailIntakeProps) {
    super(scope, id);
    const { desk, email } = props;
    if (Object.keys(desk.emailEnvironment).length === 0) {
      throw new Error(
        `EmailIntake ${id}: the desk wiring has no e-mail channel (SupportDeskWiringProps.email)`,
      );
    }
    const timeout = props.timeout ?? Duration.seconds(30);

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Six times the consumer's timeout, as Lambda recommends for SQS event sources.
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: EMAIL_INTAKE_MAX_RECEIVE_COUNT },
    });

    this.handler = new AppFunction(this, 'Handler', {
      handler: 'queue/emailIntake',
      description:
        'Inbound e-mail: parses the raw mail, finds the sender, hands it to the desk (turn workflow)',
      timeout,
      // Mails of up to 40 MB are parsed in memory.
      memorySize: 1024,
      packageLayers: [...desk.packageLayers, ...props.packageLayers],
      environment: {
        ...desk.environment,
        ...desk.crmEnvironment,
        ...desk.emailEnvironment,
        TURN_STATE_MACHINE_ARN: props.turnStateMachine.stateMachineArn,
      },
    });
    desk.grant(this.handler, {
      // cases: a reply naming a case number joins that case's conversation.
      tables: {
        conversations: 'readWrite',
        messages: 'readWrite',
        connections: 'readWrite',
        cases: 'read',
      },
      publishesEvents: true,
      notifiesClients: true,
      crm: 'lookup',
      sendsEmail: true,
    });
    props.turnStateMachine.grantStartExecution(this.handler);
    grantAttachmentWrite(this.handler, props.attachments);

    const mails = `arn:${Aws.PARTITION}:s3:::${email.mailBucketName}/${INBOUND_MAIL_PREFIX}*`;
    Grant.addToPrincipal({ grantee: this.handler, actions: ['s3:GetObject'], resourceArns: [mails] });
    grantKeyThroughS3(this.handler, props.mailKey, ['kms:Decrypt']);
    Validations.of(this.handler.role!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${mails.replace(Aws.PARTITION, '<AWS::Partition>')}]`,
      reason: 'SES names each stored mail by its own message id under inbound/; intake reads (only) those.',
    });
    this.handler.addEventSource(
      new SqsEventSource(this.queue, { batchSize: 5, reportBatchItemFailures: true }),
    );

    // The bucket lives in the Data stack; its notification is configured from here (by CDK's deploy-time
    // handler, whose role is named so its one AWS managed policy can be vouched for), so Data never depends on
    // this stack.
    const notificationsHandlerRole = new Role(this, 'NotificationsHandlerRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description:
        'Writes the mail bucket notification that feeds the SupportMax e-mail intake (deploy time)',
    });
    Validations.of(notificationsHandlerRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        "CDK's S3 notification handler attaches AWSLambdaBasicExecutionRole (CloudWatch Logs writes only) to its " +
        'role unconditionally; CloudFormation names that function, so no narrower log-group ARN exists in advance.',
    });
    const mailBucket = Bucket.fromBucketAttributes(this, 'MailBucket', {
      bucketName: email.mailBucketName,
      notificationsHandlerRole,
    });
    mailBucket.addEventNotification(EventType.OBJECT_CREATED, new SqsDestination(this.queue), {
      prefix: INBOUND_MAIL_PREFIX,
    });
  }
}
