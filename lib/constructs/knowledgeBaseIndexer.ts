/**
 * The KB indexer: a function run by S3 for every kb/*.jsonl object created in the content bucket. With the
 * 'embedded' backend it rebuilds the index objects under index/ of that bucket from every KB source (USE-lite
 * vectors); with 'opensearch' it embeds the created source with Titan into the collection. It may list and
 * read only the KB sources, write only the index objects and this collection (using the key only through S3)
 * and invoke only the embedding model.
 */
import { Aws, Duration, Validations } from 'aws-cdk-lib';
import { Grant, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Bucket, EventType } from 'aws-cdk-lib/aws-s3';
import { LambdaDestination } from 'aws-cdk-lib/aws-s3-notifications';
import { Construct } from 'constructs';
import { KB_SOURCE_PREFIX, KB_SOURCE_SUFFIX } from '#core/knowledgeBase';
import { AppFunction } from './appFunction';
import type { EngineAssets } from './engineAssets';
import { grantKeyThroughS3, knowledgeBaseIndexArns } from './knowledgeBaseIndexAccess';
import type { VectorCollection } from './vectorCollection';

export interface KnowledgeBaseIndexerProps {
  /**
   * Name of the bucket holding the KB sources under kb/. A name, not a bucket: the notification is configured
   * from this construct's stack, and a bucket of another stack would make that stack depend on this one.
   */
  readonly sourceBucketName: string;
  /**
   * Key encrypting the source objects.
   * @default none: S3-managed encryption
   */
  readonly sourceKey?: IKey;
  readonly collection: VectorCollection;
  /** Layer with the OpenSearch client (external in every bundle to keep bundles under 1 MB). */
  readonly engineAssets: EngineAssets;
  /**
   * Time for one invocation; a source of n FAQs takes about n / 40 s of Titan calls.
   * @default 10 minutes
   */
  readonly timeout?: Duration;
  /**
   * What the indexer builds: the embedded index objects under index/ or the collection's documents.
   * @default 'embedded'
   */
  readonly searchBackend?: 'embedded' | 'opensearch';
}

export class KnowledgeBaseIndexer extends Construct {
  readonly function: AppFunction;

  constructor(scope: Construct, id: string, props: KnowledgeBaseIndexerProps) {
    super(scope, id);
    const { collection } = props;
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(props.sourceBucketName)) {
      throw new Error(
        `KnowledgeBaseIndexer ${id}: sourceBucketName "${props.sourceBucketName}" is not an S3 bucket name`,
      );
    }

    this.function = new AppFunction(this, 'Function', {
      handler: 'search/kbIndexer',
      description:
        'KB indexer: kb/*.jsonl sources to the embedded index (index/) or the OpenSearch collection',
      environment: { ...collection.environment, SEARCH_BACKEND: props.searchBackend ?? 'embedded' },
      // A full rebuild embeds every changed FAQ text with USE-lite in this function.
      memorySize: 1536,
      timeout: props.timeout ?? Duration.minutes(10),
      engineAssets: props.engineAssets,
    });
    const role = this.function.role!;

    // CDK's notification handler is a deploy-time custom resource; naming its role lets us vouch for it below.
    const notificationsHandlerRole = new Role(this, 'NotificationsHandlerRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'Writes the content bucket notification that runs the SupportMax KB indexer (deploy time)',
    });
    const sourceBucket = Bucket.fromBucketAttributes(this, 'SourceBucket', {
      bucketName: props.sourceBucketName,
      encryptionKey: props.sourceKey,
      notificationsHandlerRole,
    });

    // GetObject with the event's VersionId needs GetObjectVersion as well (the bucket is versioned).
    const sources = sourceBucket.arnForObjects(`${KB_SOURCE_PREFIX}*`);
    Grant.addToPrincipal({
      grantee: role,
      actions: ['s3:GetObject', 's3:GetObjectVersion'],
      resourceArns: [sources],
    });
    // The embedded index is rebuilt from every source: list kb/ only, write the two index objects only.
    Grant.addToPrincipal({
      grantee: role,
      actions: ['s3:ListBucket'],
      resourceArns: [sourceBucket.bucketArn],
      conditions: { StringEquals: { 's3:prefix': KB_SOURCE_PREFIX } },
    });
    Grant.addToPrincipal({
      grantee: role,
      actions: ['s3:PutObject'],
      resourceArns: knowledgeBaseIndexArns(props.sourceBucketName),
    });
    if (props.sourceKey) {
      grantKeyThroughS3(role, props.sourceKey, ['kms:Decrypt', 'kms:GenerateDataKey']);
    }
    collection.grant(role, 'write');
    collection.grantEmbedding(role);

    sourceBucket.addEventNotification(EventType.OBJECT_CREATED, new LambdaDestination(this.function), {
      prefix: KB_SOURCE_PREFIX,
      suffix: KB_SOURCE_SUFFIX,
    });

    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${sources.replace(Aws.PARTITION, '<AWS::Partition>')}]`,
      reason: 'The indexer reads every KB source object under kb/; object keys are not known in advance.',
    });
    Validations.of(notificationsHandlerRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        "CDK's S3 notification handler attaches AWSLambdaBasicExecutionRole (CloudWatch Logs writes only) to its " +
        'role unconditionally; CloudFormation names that function, so no narrower log-group ARN exists in advance.',
    });
  }
}
