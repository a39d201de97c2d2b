import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag (3.x) findings on a construct and everything below it. Each acknowledgement
 * needs a reason that a reviewer can check; the cdk-nag test fails on any finding that is not
 * acknowledged.
 */
export function acknowledgeNag(scope: IConstruct, ...rules: { id: string; reason: string }[]): void {
  for (const rule of rules) {
    if (rule.reason.trim().length < 20) {
      throw new Error(`cdk-nag acknowledgement ${rule.id} on ${scope.node.path} needs a real reason`);
    }
  }
  Validations.of(scope).acknowledge(...rules);
}

/**
 * The finding id cdk-nag gives a wildcard resource in an IAM policy (AwsSolutions-IAM5), e.g.
 * `AwsSolutions-IAM5[Resource::arn:aws:sagemaker:us-west-2:<AWS::AccountId>:training-job/*]`:
 * references become <LogicalId> or <LogicalId.Attribute>, as in cdk-nag's flattenCfnReference.
 */
export function iam5ResourceFinding(scope: IConstruct, resource: string): string {
  return `AwsSolutions-IAM5[Resource::${flatten(Stack.of(scope).resolve(resource))}]`;
}

function flatten(node: unknown): string {
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (node !== null && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (Array.isArray(o['Fn::Join'])) {
      const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
      return items.map(flatten).join(delimiter);
    }
    if (Array.isArray(o['Fn::GetAtt'])) {
      const [resource, attribute] = o['Fn::GetAtt'] as [unknown, unknown];
      return `<${flatten(resource)}.${flatten(attribute)}>`;
    }
    if ('Ref' in o) return `<${flatten(o.Ref)}>`;
  }
  return JSON.stringify(node);
}
