/**
 * E-mail attachments live in the content bucket under attachments/<conversationId>/ (KMS, the data key):
 * e-mail intake writes them, the GDPR function erases a customer's. Each grant is scoped to that prefix.
 */
import { Aws, Validations } from 'aws-cdk-lib';
import { Grant } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { AppFunction } from './appFunction';
import { grantKeyThroughS3 } from './knowledgeBaseIndexAccess';

export interface AttachmentLocation {
  readonly bucketName: string;
  readonly encryptionKey: IKey;
}

const PREFIX = 'attachments/';

function acknowledge(fn: AppFunction, resource: string, reason: string) {
  Validations.of(fn.role!).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${resource.replace(Aws.PARTITION, '<AWS::Partition>')}]`,
    reason,
  });
}

/** TRANSCRIPT_BUCKET and PutObject under attachments/ (e-mail intake). */
export function grantAttachmentWrite(fn: AppFunction, location: AttachmentLocation): void {
  fn.addEnvironment('TRANSCRIPT_BUCKET', location.bucketName);
  const objects = `arn:${Aws.PARTITION}:s3:::${location.bucketName}/${PREFIX}*`;
  Grant.addToPrincipal({ grantee: fn, actions: ['s3:PutObject'], resourceArns: [objects] });
  grantKeyThroughS3(fn, location.encryptionKey, ['kms:GenerateDataKey', 'kms:Encrypt']);
  acknowledge(
    fn,
    objects,
    'Attachments are stored under attachments/<conversation>/<mail>/: PutObject there only.',
  );
}

/** TRANSCRIPT_BUCKET, list and delete under attachments/ (GDPR erasure). */
export function grantAttachmentErase(fn: AppFunction, location: AttachmentLocation): void {
  fn.addEnvironment('TRANSCRIPT_BUCKET', location.bucketName);
  const bucket = `arn:${Aws.PARTITION}:s3:::${location.bucketName}`;
  const objects = `${bucket}/${PREFIX}*`;
  Grant.addToPrincipal({
    grantee: fn,
    actions: ['s3:ListBucket'],
    resourceArns: [bucket],
    conditions: { StringLike: { 's3:prefix': [`${PREFIX}*`] } },
  });
  Grant.addToPrincipal({ grantee: fn, actions: ['s3:DeleteObject'], resourceArns: [objects] });
  acknowledge(
    fn,
    objects,
    "Erasure deletes a customer's attachments/<conversation>/ objects: DeleteObject there only.",
  );
}
