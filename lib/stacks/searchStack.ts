/**
 * The knowledge-base search tier: an OpenSearch Serverless vector collection and the KB indexer keeping it in
 * step with the kb/*.jsonl sources of the content bucket. The collection is stateful and the indexer belongs
 * to it (it is what writes it), so both live here, apart from the conversation back end.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { EngineAssets } from '../constructs/engineAssets';
import { KnowledgeBaseIndexer } from '../constructs/knowledgeBaseIndexer';
import { VectorCollection } from '../constructs/vectorCollection';

export interface SearchStackProps extends StackProps {
  /** Collection name, 3-20 lowercase characters. */
  readonly collectionName: string;
  /** Name of the bucket holding the KB sources under kb/ (a name: see KnowledgeBaseIndexer). */
  readonly contentBucketName: string;
  /** Key encrypting the content bucket. */
  readonly dataKey: IKey;
  /**
   * Keep a standby replica in a second AZ. Worth its cost only when retrieval is served from the collection.
   * @default true
   */
  readonly standbyReplicas?: boolean;
  /**
   * What the KB indexer builds: the embedded index in the content bucket or the collection's documents.
   * @default 'embedded'
   */
  readonly searchBackend?: 'embedded' | 'opensearch';
}

export class SearchStack extends Stack {
  readonly collection: VectorCollection;
  /** Reads created KB sources, writes the collection. */
  readonly indexer: KnowledgeBaseIndexer;

  constructor(scope: Construct, id: string, props: SearchStackProps) {
    super(scope, id, props);
    this.collection = new VectorCollection(this, 'KnowledgeCollection', {
      collectionName: props.collectionName,
      standbyReplicas: props.standbyReplicas,
    });
    this.indexer = new KnowledgeBaseIndexer(this, 'KbIndexer', {
      engineAssets: new EngineAssets(this, 'EngineAssets'),
      sourceBucketName: props.contentBucketName,
      sourceKey: props.dataKey,
      collection: this.collection,
      searchBackend: props.searchBackend,
    });
  }
}
