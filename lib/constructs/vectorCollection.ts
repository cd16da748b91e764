/**
 * An OpenSearch Serverless vector-search collection for the knowledge base, with its encryption, network and
 * data-access policies. Readers and writers are IAM roles: each grant adds a data-access policy naming the
 * role (created in the grantee's stack, so grants never make this stack depend on its users) and the
 * aoss:APIAccessAll IAM permission on this collection only.
 *
 * The collection also fixes how FAQs are stored in it: the index name and the embedding model of the vectors.
 * Every reader and writer gets both through `environment` and embeds with `grantEmbedding`, so they agree.
 */
import { Stack } from 'aws-cdk-lib';
import { Grant, type IRole } from 'aws-cdk-lib/aws-iam';
import { CfnAccessPolicy, CfnCollection, CfnSecurityPolicy } from 'aws-cdk-lib/aws-opensearchserverless';
import { Construct } from 'constructs';
import { TITAN_EMBED_TEXT_V2 } from '#adapters/titanEmbedder';
import { grantInvokeModels } from './bedrockAccess';

export type CollectionAccess = 'read' | 'write';

const INDEX_PERMISSIONS: Record<CollectionAccess, string[]> = {
  read: ['aoss:DescribeIndex', 'aoss:ReadDocument'],
  write: [
    'aoss:CreateIndex',
    'aoss:UpdateIndex',
    'aoss:DescribeIndex',
    'aoss:ReadDocument',
    'aoss:WriteDocument',
  ],
};

export interface VectorCollectionProps {
  /** Collection name: 3-20 lowercase letters, digits and dashes (policy names add up to 12 characters). */
  readonly collectionName: string;
  /**
   * KMS key ARN for encryption at rest.
   * @default an AWS owned key
   */
  readonly kmsKeyArn?: string;
  /** @default true: one standby replica in another AZ (set false for a cheaper non-production collection) */
  readonly standbyReplicas?: boolean;
  /** Index holding the FAQs. @default 'faqs' */
  readonly indexName?: string;
  /**
   * Bedrock model embedding the FAQs and the queries (512-d, normalised).
   * @default 'amazon.titan-embed-text-v2:0'
   */
  readonly embeddingModelId?: string;
}

/** The variables the OpenSearch search backend reads (lambdas/handlers: runtime.ts, search/kbIndexer.ts). */
export interface KnowledgeSearchEnvironment {
  readonly OPENSEARCH_ENDPOINT: string;
  readonly OPENSEARCH_INDEX: string;
  readonly TITAN_MODEL_ID: string;
}

export class VectorCollection extends Construct {
  readonly collectionName: string;
  readonly collectionArn: string;
  readonly collectionEndpoint: string;
  readonly indexName: string;
  readonly embeddingModelId: string;
  private readonly collection: CfnCollection;

  constructor(scope: Construct, id: string, props: VectorCollectionProps) {
    super(scope, id);
    if (!/^[a-z][a-z0-9-]{2,19}$/.test(props.collectionName)) {
      throw new Error(
        `VectorCollection ${id}: collectionName "${props.collectionName}" must be 3-20 lowercase letters, digits or dashes, starting with a letter`,
      );
    }
    const indexName = props.indexName ?? 'faqs';
    if (!/^[a-z0-9][a-z0-9_-]{0,254}$/.test(indexName)) {
      throw new Error(
        `VectorCollection ${id}: indexName "${indexName}" must be a lower-case OpenSearch index name`,
      );
    }
    const embeddingModelId = props.embeddingModelId ?? TITAN_EMBED_TEXT_V2;
    if (!/^amazon\.titan-embed-text-v2:\d+$/.test(embeddingModelId)) {
      throw new Error(
        `VectorCollection ${id}: embeddingModelId "${embeddingModelId}" must be a Titan Text Embeddings v2 model id (512-d vectors)`,
      );
    }
    const name = props.collectionName;
    const resource = [`collection/${name}`];

    const encryption = new CfnSecurityPolicy(this, 'EncryptionPolicy', {
      name: `${name}-enc`,
      type: 'encryption',
      description: 'Encryption at rest for the SupportMax knowledge-base collection',
      policy: Stack.of(this).toJsonString(
        props.kmsKeyArn
          ? {
              Rules: [{ ResourceType: 'collection', Resource: resource }],
              AWSOwnedKey: false,
              KmsARN: props.kmsKeyArn,
            }
          : { Rules: [{ ResourceType: 'collection', Resource: resource }], AWSOwnedKey: true },
      ),
    });
    // The endpoint is reachable over TLS from anywhere, but only IAM principals named in a data-access policy
    // get past authentication: there is no VPC in this application to restrict it to.
    const network = new CfnSecurityPolicy(this, 'NetworkPolicy', {
      name: `${name}-net`,
      type: 'network',
      description: 'Public TLS endpoint with IAM authentication; dashboards disabled',
      policy: JSON.stringify([
        { Rules: [{ ResourceType: 'collection', Resource: resource }], AllowFromPublic: true },
      ]),
    });

    this.collection = new CfnCollection(this, 'Collection', {
      name,
      type: 'VECTORSEARCH',
      description: 'SupportMax knowledge-base vectors',
      standbyReplicas: props.standbyReplicas === false ? 'DISABLED' : 'ENABLED',
    });
    this.collection.addResourceDependency(encryption);
    this.collection.addResourceDependency(network);
    this.collectionName = name;
    this.collectionArn = this.collection.attrArn;
    this.collectionEndpoint = this.collection.attrCollectionEndpoint;
    this.indexName = indexName;
    this.embeddingModelId = embeddingModelId;
  }

  /** Where and how a function searches or writes the FAQs of this collection. */
  get environment(): KnowledgeSearchEnvironment {
    return {
      OPENSEARCH_ENDPOINT: this.collectionEndpoint,
      OPENSEARCH_INDEX: this.indexName,
      TITAN_MODEL_ID: this.embeddingModelId,
    };
  }

  /** Lets `role` embed FAQs and queries with this collection's model (bedrock:InvokeModel on it only). */
  grantEmbedding(role: IRole): void {
    const stack = Stack.of(role);
    grantInvokeModels(role, [this.embeddingModelId], stack.region, stack.account);
  }

  /**
   * Lets `role` read (query) or write (index) the collection's indexes. The data-access policy is created
   * under the role, in the role's stack.
   */
  grant(role: IRole, access: CollectionAccess): void {
    const policy = new CfnAccessPolicy(
      role,
      `KnowledgeCollection${access === 'read' ? 'Read' : 'Write'}Access`,
      {
        // Unique per account and region, at most 32 characters: collection name + access + role path hash.
        name: `${this.collectionName}-${access.charAt(0)}-${role.node.addr.slice(0, 8)}`,
        type: 'data',
        description: `SupportMax ${access} access to the knowledge-base collection`,
        policy: Stack.of(role).toJsonString([
          {
            Rules: [
              {
                ResourceType: 'collection',
                Resource: [`collection/${this.collectionName}`],
                Permissions: ['aoss:DescribeCollectionItems'],
              },
              {
                ResourceType: 'index',
                Resource: [`index/${this.collectionName}/*`],
                Permissions: INDEX_PERMISSIONS[access],
              },
            ],
            Principal: [role.roleArn],
          },
        ]),
      },
    );
    policy.node.addDependency(this.collection);
    Grant.addToPrincipal({
      grantee: role,
      actions: ['aoss:APIAccessAll'],
      resourceArns: [this.collectionArn],
    });
  }
}
