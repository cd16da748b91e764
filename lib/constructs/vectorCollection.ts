/**
 * An OpenSearch Serverless vector-search collection for the knowledge base, with its encryption, network and
 * data-access policies. Readers and writers are IAM roles: each grant adds a data-access policy naming the
 * role (created in the grantee's stack, so grants never make this stack depend on its users) and the
 * aoss:APIAccessAll IAM permission on this collection only.
 */
import { Stack } from 'aws-cdk-lib';
import { Grant, type IRole } from 'aws-cdk-lib/aws-iam';
import { CfnAccessPolicy, CfnCollection, CfnSecurityPolicy } from 'aws-cdk-lib/aws-opensearchserverless';
import { Construct } from 'constructs';

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
}

export class VectorCollection extends Construct {
  readonly collectionName: string;
  readonly collectionArn: string;
  readonly collectionEndpoint: string;
  private readonly collection: CfnCollection;

  constructor(scope: Construct, id: string, props: VectorCollectionProps) {
    super(scope, id);
    if (!/^[a-z][a-z0-9-]{2,19}$/.test(props.collectionName)) {
      throw new Error(
        `VectorCollection ${id}: collectionName "${props.collectionName}" must be 3-20 lowercase letters, digits or dashes, starting with a letter`,
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
