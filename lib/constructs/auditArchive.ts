/**
 * The audit log on AWS: the append-only `audit` table (SupportTables) and its immutable copy, an S3 bucket
 * with object lock in compliance mode (lambdas/adapters/s3AuditArchive.ts writes one object per batch).
 * Writers get PutItem on the table and PutObject under audit/ only; retention comes from the bucket's
 * default, so nobody needs PutObjectRetention, and the bucket policy refuses deletes and retention changes
 * to every principal: until an object's retention ends, nobody, the account root included, can remove it.
 */
import { Aws, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AnyPrincipal, Effect, Grant, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  ObjectLockRetention,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { AppFunction } from './appFunction';
import { grantKeyThroughS3 } from './knowledgeBaseIndexAccess';
import type { SupportTables } from './supportTables';

/** Key prefix of the archive objects (S3AuditArchive's default). */
export const AUDIT_ARCHIVE_PREFIX = 'audit/';

/** Object-level actions no principal may perform on the archive. */
export const AUDIT_DENIED_OBJECT_ACTIONS = [
  's3:DeleteObject*',
  's3:PutObjectRetention',
  's3:BypassGovernanceRetention',
];

/** The CloudFormation execution role of `cdk bootstrap` (any qualifier): it alone applies the default retention. */
const CDK_DEPLOY_ROLE = `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/cdk-*-cfn-exec-role-*`;

/** Where writers find the archive. A name, not a bucket, so no bucket construct crosses stacks. */
export interface AuditArchiveLocation {
  readonly bucketName: string;
  /** Key encrypting the archive objects. */
  readonly encryptionKey: IKey;
}

export interface AuditArchiveProps extends AuditArchiveLocation {
  /** Days each object is locked (compliance mode), 1..36500. */
  readonly retentionDays: number;
  /** Receives the bucket's server access logs (under audit/). */
  readonly accessLogsBucket: IBucket;
}

export class AuditArchive extends Construct {
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: AuditArchiveProps) {
    super(scope, id);
    if (
      !(Number.isInteger(props.retentionDays) && props.retentionDays >= 1 && props.retentionDays <= 36_500)
    ) {
      throw new Error(
        `AuditArchive ${id}: retentionDays must be an integer in 1..36500, got ${props.retentionDays}`,
      );
    }
    if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(props.bucketName)) {
      throw new Error(`AuditArchive ${id}: bucketName "${props.bucketName}" is not a valid S3 bucket name`);
    }
    this.bucket = new Bucket(this, 'Bucket', {
      bucketName: props.bucketName,
      encryption: BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      objectLockEnabled: true,
      objectLockDefaultRetention: ObjectLockRetention.compliance(Duration.days(props.retentionDays)),
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: AUDIT_ARCHIVE_PREFIX,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Compliance mode already stops early deletes of locked versions; this also refuses delete markers and
    // any attempt to shorten or bypass a retention, whoever asks.
    this.bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AuditObjectsAreImmutable',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: AUDIT_DENIED_OBJECT_ACTIONS,
        resources: [this.bucket.arnForObjects('*')],
      }),
    );
    // The default retention is changed by deploying auditRetentionDays, through CloudFormation only.
    this.bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'RetentionChangesThroughDeploymentsOnly',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['s3:PutBucketObjectLockConfiguration'],
        resources: [this.bucket.bucketArn],
        conditions: { ArnNotLike: { 'aws:PrincipalArn': CDK_DEPLOY_ROLE } },
      }),
    );
  }
}

/** ARN of the archive objects writers may create. */
export const auditObjectsArn = (bucketName: string) =>
  `arn:${Aws.PARTITION}:s3:::${bucketName}/${AUDIT_ARCHIVE_PREFIX}*`;

/**
 * Lets `fn` append to the audit log: AUDIT_TABLE and AUDIT_BUCKET, PutItem on the audit table, PutObject
 * under audit/ (no retention, legal-hold or delete actions) and the archive key through S3 for new objects.
 */
export function grantAuditAppend(
  fn: AppFunction,
  tables: SupportTables,
  archive: AuditArchiveLocation,
): void {
  for (const [name, value] of Object.entries(tables.environment('audit'))) fn.addEnvironment(name, value);
  fn.addEnvironment('AUDIT_BUCKET', archive.bucketName);
  tables.grant(fn, 'append', 'audit');
  const objects = auditObjectsArn(archive.bucketName);
  Grant.addToPrincipal({ grantee: fn, actions: ['s3:PutObject'], resourceArns: [objects] });
  grantKeyThroughS3(fn, archive.encryptionKey, ['kms:GenerateDataKey', 'kms:Encrypt']);
  Validations.of(fn.role!).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${objects.replace(Aws.PARTITION, '<AWS::Partition>')}]`,
    reason:
      'Audit batches are written as new objects with generated keys under audit/; PutObject only, and the ' +
      "archive's object lock and bucket policy make every written object immutable.",
  });
}

/** Lets `fn` list the audit log by day (AUDIT_TABLE, read on the table and its byDay index). */
export function grantAuditRead(fn: AppFunction, tables: SupportTables): void {
  for (const [name, value] of Object.entries(tables.environment('audit'))) fn.addEnvironment(name, value);
  tables.grant(fn, 'read', 'audit');
}
