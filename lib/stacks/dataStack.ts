/**
 * Stateful data, deployed first and changed rarely: the customer managed data key, the DynamoDB tables, the
 * bucket for knowledge-base sources and transcripts, the audit archive (object lock) and, with the e-mail
 * channel, the inbound mail bucket (all with server access logs in one log bucket). Everything here is retained.
 */
import { Aws, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { AuditArchive } from '../constructs/auditArchive';
import { type EmailChannelSettings, InboundMailBucket } from '../constructs/emailChannel';
import { SupportTables } from '../constructs/supportTables';

export interface DataStackProps extends StackProps {
  /** Physical name of the content bucket (stable, so IAM policies elsewhere can name its prefixes). */
  readonly contentBucketName: string;
  /** Physical name of the audit archive bucket (stable, so writers' policies can name its prefix). */
  readonly auditBucketName: string;
  /** Days each audit archive object is locked (compliance mode). */
  readonly auditRetentionDays: number;
  /** The e-mail channel, whose inbound mail bucket lives here. @default none: no mail bucket */
  readonly email?: EmailChannelSettings;
}

export class DataStack extends Stack {
  /** Encrypts the tables, the content bucket and the log groups that hold customer text. */
  readonly dataKey: Key;
  readonly tables: SupportTables;
  /** Knowledge-base sources (kb/*.jsonl) and conversation transcripts. */
  readonly contentBucket: Bucket;
  /** The audit log's immutable copy. */
  readonly auditArchive: AuditArchive;
  /** Raw inbound mail, when the e-mail channel is configured. */
  readonly inboundMail?: InboundMailBucket;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);

    this.dataKey = new Key(this, 'DataKey', {
      description: 'SupportMax data: tables, KB and transcript objects, logs with customer text',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudWatch Logs encrypts this account's SupportMax log groups with the key (and no other account's).
    this.dataKey.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
        actions: [
          'kms:Encrypt',
          'kms:Decrypt',
          'kms:ReEncryptFrom',
          'kms:ReEncryptTo',
          'kms:GenerateDataKey',
          'kms:DescribeKey',
        ],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*`,
          },
        },
      }),
    );

    this.tables = new SupportTables(this, 'Tables', { encryptionKey: this.dataKey });

    // Server access logs only support SSE-S3 on the target bucket.
    const accessLogs = new Bucket(this, 'AccessLogsBucket', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: [{ expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the server access log bucket; logging its own access would log the logging.',
    });

    if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(props.contentBucketName)) {
      throw new Error(
        `DataStack: contentBucketName "${props.contentBucketName}" is not a valid S3 bucket name`,
      );
    }
    this.contentBucket = new Bucket(this, 'ContentBucket', {
      bucketName: props.contentBucketName,
      encryption: BucketEncryption.KMS,
      encryptionKey: this.dataKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'content/',
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.auditArchive = new AuditArchive(this, 'AuditArchive', {
      bucketName: props.auditBucketName,
      encryptionKey: this.dataKey,
      retentionDays: props.auditRetentionDays,
      accessLogsBucket: accessLogs,
    });

    if (props.email) {
      this.inboundMail = new InboundMailBucket(this, 'InboundMail', {
        settings: props.email,
        encryptionKey: this.dataKey,
        accessLogsBucket: accessLogs,
      });
    }
  }
}
