import { join } from 'node:path';
import { type Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ConfigError } from '../../lambdas/contracts/config';
import { ENV } from '../../lambdas/contracts/env';
import { METRICS_NAMESPACE } from '../../lambdas/contracts/metrics';
import { acknowledgeNag } from '../nag';
import { REPO_ROOT } from '../repo-root';

/** Lambda's limit on the total size of a function's environment variables (names and values). */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;

/**
 * Bytes assumed for a value that is still a CDK token at synth time (a table name, a queue URL).
 * Generated names and URLs are well under this (e.g. FleetWatch-StateStoresStateTable1A2B3C-XYZ
 * or https://sqs.us-east-1.amazonaws.com/123456789012/FleetWatch-...), so the check errs on the
 * safe side.
 */
export const TOKEN_VALUE_ALLOWANCE_BYTES = 128;

export interface FleetWatchFunctionProps {
  /**
   * Name of the handler module: the entry is lambdas/handlers/<handlerName>.ts, and it is the
   * Powertools service name.
   */
  readonly handlerName: string;
  readonly description: string;
  readonly timeout: Duration;
  /**
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * Reserved concurrency; 1 makes the function a single writer (of watermarks, say).
   * @default - no reservation (uses the account's unreserved concurrency)
   */
  readonly reservedConcurrentExecutions?: number;
  /** Function-specific environment, names from lambdas/contracts/env.ts. */
  readonly environment: Readonly<Record<string, string>>;
  /** Retention of the function's log group. */
  readonly logRetention: logs.RetentionDays;
  /** Customer-managed key of the log group. */
  readonly encryptionKey: kms.IKey;
  /**
   * Entry file, absolute or relative to the repository root.
   * @default `lambdas/handlers/${handlerName}.ts`
   */
  readonly entry?: string;
}

/**
 * One FleetWatch Lambda function with the platform choices made once: Node.js 22 on arm64,
 * X-Ray tracing, its own role (no AWS managed policies: it may write only to its own log group),
 * an explicit encrypted log group with retention, Powertools settings, and local esbuild
 * bundling (no Docker).
 */
export class FleetWatchFunction extends Construct implements iam.IGrantable {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly grantPrincipal: iam.IPrincipal;

  constructor(scope: Construct, id: string, props: FleetWatchFunctionProps) {
    super(scope, id);
    const environment: Record<string, string> = {
      [ENV.serviceName]: props.handlerName,
      [ENV.metricsNamespace]: METRICS_NAMESPACE,
      // Stack traces point into the TypeScript sources (the bundle ships a source map).
      NODE_OPTIONS: '--enable-source-maps',
      ...props.environment,
    };
    assertEnvironmentFits(props.handlerName, environment);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `FleetWatch ${props.handlerName} function`,
    });
    this.grantPrincipal = this.role;
    this.logGroup.grantWrite(this.role);

    const entry = props.entry ?? join('lambdas', 'handlers', `${props.handlerName}.ts`);
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: join(REPO_ROOT, entry),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize ?? 512,
      ...(props.reservedConcurrentExecutions === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      tracing: lambda.Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      environment,
      bundling: {
        // The AWS SDK is bundled (not taken from the runtime) so the code runs with exactly the
        // SDK versions it was tested with; minified, tree-shaken bundles keep cold starts small.
        bundleAwsSDK: true,
        externalModules: [],
        minify: true,
        sourceMap: true,
        target: 'node22',
        format: nodejs.OutputFormat.CJS,
      },
    });

    acknowledgeNag(
      this,
      {
        id: 'AwsSolutions-L1',
        reason:
          'nodejs22.x is pinned on purpose (supported until 2027-04-30, matches the esbuild target and CI Node); move to nodejs24.x deliberately, not by a library upgrade',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which have no resource-level permissions',
      },
      ...['kms:GenerateDataKey*', 'kms:ReEncrypt*'].map((action) => ({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason: `${action} comes from CDK grants on encrypted tables and queues; the statement's only resource is the FleetWatch key`,
      })),
    );
  }
}

/**
 * Fails synth when the environment would exceed Lambda's 4 KB, instead of failing the deploy.
 * Unresolved values (tokens) count as TOKEN_VALUE_ALLOWANCE_BYTES.
 */
export function assertEnvironmentFits(
  handlerName: string,
  environment: Readonly<Record<string, string>>,
): void {
  const sizes = Object.entries(environment).map(([name, value]) => ({
    name,
    bytes:
      Buffer.byteLength(name) +
      (Token.isUnresolved(value) ? TOKEN_VALUE_ALLOWANCE_BYTES : Buffer.byteLength(value)),
  }));
  const total = sizes.reduce((sum, s) => sum + s.bytes, 0);
  if (total <= LAMBDA_ENVIRONMENT_LIMIT_BYTES) return;
  const largest = [...sizes]
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 3)
    .map((s) => `${s.name} ${s.bytes} bytes`)
    .join(', ');
  throw new ConfigError(`the Lambda environment of ${handlerName}`, [
    `environment: about ${total} bytes; Lambda allows ${LAMBDA_ENVIRONMENT_LIMIT_BYTES} bytes (4 KB) in total ` +
      `(largest: ${largest}). ${ENV.runtimeConfig} carries fleets, custom profiles and settings: ` +
      'shorten descriptions, drop unused custom profiles or signals, or merge fleets.',
  ]);
}
