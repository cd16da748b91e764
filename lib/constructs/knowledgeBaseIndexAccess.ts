/**
 * Access to the embedded search index the KB indexer writes under index/ of the content bucket
 * (searchBackend 'embedded'). The index is two objects with fixed names, so grants name them exactly.
 */
import { Aws, Stack } from 'aws-cdk-lib';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { KB_INDEX_EMBEDDINGS_KEY, KB_INDEX_FAQS_KEY } from '#core/knowledgeBase';
import type { AppFunction } from './appFunction';

/** Where the index lives. A name, not a bucket, so no bucket construct crosses stacks. */
export interface KnowledgeBaseIndexSource {
  readonly bucketName: string;
  /**
   * Key encrypting the bucket's objects.
   * @default none: S3-managed encryption
   */
  readonly encryptionKey?: IKey;
}

/** ARNs of the index objects of `bucketName`. */
export const knowledgeBaseIndexArns = (bucketName: string) =>
  [KB_INDEX_FAQS_KEY, KB_INDEX_EMBEDDINGS_KEY].map((key) => `arn:${Aws.PARTITION}:s3:::${bucketName}/${key}`);

/** kms:<actions> on the bucket key, only through S3 in this region. */
export function grantKeyThroughS3(grantee: IGrantable, key: IKey, actions: string[]): void {
  Grant.addToPrincipal({
    grantee,
    actions,
    resourceArns: [key.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(key).region}.amazonaws.com` } },
  });
}

/** Lets an engine function load the index at cold start: KNOWLEDGE_BASE_BUCKET and read on its objects. */
export function grantKnowledgeBaseIndexRead(fn: AppFunction, source: KnowledgeBaseIndexSource): void {
  fn.addEnvironment('KNOWLEDGE_BASE_BUCKET', source.bucketName);
  Grant.addToPrincipal({
    grantee: fn,
    actions: ['s3:GetObject'],
    resourceArns: knowledgeBaseIndexArns(source.bucketName),
  });
  if (source.encryptionKey) grantKeyThroughS3(fn, source.encryptionKey, ['kms:Decrypt']);
}
