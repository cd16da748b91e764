/**
 * Least-privilege Bedrock access: bedrock:InvokeModel (which the Converse API uses) on the configured models
 * only. A cross-region inference profile id ('us.anthropic…') needs the profile and, in every region the
 * profile may route to, the base model, but only when called through that profile.
 */
import { Aws, Validations } from 'aws-cdk-lib';
import { Grant, type IRole } from 'aws-cdk-lib/aws-iam';
import { INFERENCE_PROFILE_PREFIX } from '../config';

export interface ModelPermission {
  readonly resourceArns: string[];
  readonly conditions?: Record<string, Record<string, unknown>>;
}

/** The IAM resources (and conditions) invoking `modelId` in `region`/`account` needs. */
export function modelPermissions(modelId: string, region: string, account: string): ModelPermission[] {
  const prefix = INFERENCE_PROFILE_PREFIX.exec(modelId);
  if (!prefix)
    return [{ resourceArns: [`arn:${Aws.PARTITION}:bedrock:${region}::foundation-model/${modelId}`] }];
  const profileArn = `arn:${Aws.PARTITION}:bedrock:${region}:${account}:inference-profile/${modelId}`;
  const baseId = modelId.slice(prefix[0].length);
  return [
    { resourceArns: [profileArn] },
    {
      resourceArns: [`arn:${Aws.PARTITION}:bedrock:*::foundation-model/${baseId}`],
      conditions: { StringEquals: { 'bedrock:InferenceProfileArn': profileArn } },
    },
  ];
}

/** Grants invoking each model in `modelIds` (deduplicated) to `role`. */
export function grantInvokeModels(
  role: IRole,
  modelIds: readonly string[],
  region: string,
  account: string,
): void {
  for (const modelId of new Set(modelIds)) {
    for (const permission of modelPermissions(modelId, region, account)) {
      Grant.addToPrincipal({ grantee: role, actions: ['bedrock:InvokeModel'], ...permission });
      const crossRegion = permission.resourceArns.find((arn) => arn.includes(':bedrock:*::'));
      if (crossRegion) {
        Validations.of(role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::${crossRegion.replace(Aws.PARTITION, '<AWS::Partition>')}]`,
          reason:
            'A cross-region inference profile routes to the base model in any region of its geography; the ' +
            'statement only applies through the configured profile (bedrock:InferenceProfileArn condition).',
        });
      }
    }
  }
}
