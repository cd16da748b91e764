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

/** Every role (`<stack id>/<role logical id>`) whose policies allow `action`, with those statements. */
export function grantsOf(
  stacks: readonly Stack[],
  template: (stack: Stack) => Template,
  action: string,
): Map<string, Statement[]> {
  const found = new Map<string, Statement[]>();
  for (const stack of stacks) {
    const policies = template(stack).findResources('AWS::IAM::Policy') as Record<string, PolicyResource>;
    for (const policy of Object.values(policies)) {
      const statements = withAction(
        (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
        action,
      );
      if (statements.length === 0) continue;
      for (const role of policy.Properties.Roles as { Ref: string }[]) {
        const key = `${stack.node.id}/${role.Ref}`;
        found.set(key, [...(found.get(key) ?? []), ...statements]);
      }
    }
  }
  return found;
}
