/** Queries over synthesized templates shared by the CDK tests (IAM statements, logical ids). Test-only. */
import type { CfnElement, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';

export type Statement = {
  Effect?: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
};
type PolicyResource = { Properties: Record<string, unknown> };

export const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);

/** The logical id of a construct's CloudFormation resource in its stack. */
export const logicalId = (stack: Stack, construct: IConstruct) =>
  stack.getLogicalId(construct.node.defaultChild as CfnElement);

/** Every statement of the role's policies in `template`. */
export const statementsOfRole = (template: Template, roleId: string): Statement[] =>
  Object.values(template.findResources('AWS::IAM::Policy') as Record<string, PolicyResource>)
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(roleId))
    .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);

export const withAction = (statements: Statement[], action: string) =>
  statements.filter((s) => list(s.Action).includes(action));
