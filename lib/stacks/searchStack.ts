/**
 * The knowledge-base search tier: an OpenSearch Serverless vector collection and the role its KB indexer runs
 * as (reads kb/*.jsonl from the content bucket, writes the collection). Stateful, so it has its own stack.
 */
import { Aws, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { Grant, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { VectorCollection } from '../constructs/vectorCollection';

/** Key prefix of the knowledge-base sources in the content bucket. */
export const KB_SOURCE_PREFIX = 'kb/';

export interface SearchStackProps extends StackProps {
  /** Collection name, 3-20 lowercase characters. */
  readonly collectionName: string;
  /** Name of the bucket holding the KB sources under KB_SOURCE_PREFIX. */
  readonly contentBucketName: string;
  /** Key encrypting the content bucket. */
  readonly dataKey: IKey;
  /**
   * Keep a standby replica in a second AZ. Worth its cost only when retrieval is served from the collection.
   * @default true
   */
  readonly standbyReplicas?: boolean;
}

export class SearchStack extends Stack {
  readonly collection: VectorCollection;
  /** The identity of the KB indexer: reads KB sources, writes the collection. */
  readonly indexerRole: Role;

  constructor(scope: Construct, id: string, props: SearchStackProps) {
    super(scope, id, props);
    this.collection = new VectorCollection(this, 'KnowledgeCollection', {
      collectionName: props.collectionName,
    });

    this.indexerRole = new Role(this, 'IndexerRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'SupportMax KB indexer: reads kb/*.jsonl sources, writes the vector collection',
    });
    const kbSources = `arn:${Aws.PARTITION}:s3:::${props.contentBucketName}/${KB_SOURCE_PREFIX}*`;
    Grant.addToPrincipal({ grantee: this.indexerRole, actions: ['s3:GetObject'], resourceArns: [kbSources] });
    Grant.addToPrincipal({
      grantee: this.indexerRole,
      actions: ['kms:Decrypt'],
      resourceArns: [props.dataKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${this.region}.amazonaws.com` } },
    });
    this.collection.grant(this.indexerRole, 'write');
    Validations.of(this.indexerRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${kbSources.replace(Aws.PARTITION, '<AWS::Partition>')}]`,
      reason: 'The indexer reads every KB source object under kb/; object keys are not known in advance.',
    });
  }
}
