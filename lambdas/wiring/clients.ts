import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { TimestreamWriteClient } from '@aws-sdk/client-timestream-write';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ENV } from '../contracts/env';
import { readEnv } from './env';

/**
 * SDK clients, created lazily once per region and reused across invocations.
 *
 * Local emulators: every client honours AWS_ENDPOINT_URL (SDK v3 reads it itself). CloudWatch
 * gets request compression off there (moto answers 500 to gzipped PutMetricData), S3 uses
 * path-style addressing there (bucket.127.0.0.1 does not resolve), and
 * Timestream needs an explicit `endpoint`, otherwise the SDK runs endpoint discovery against the
 * real service.
 *
 * Retries: the SDK's standard retry strategy (3 attempts) is left on for every client; our own
 * adapters add longer backoff where a service's limits call for it (see each adapter).
 */
const cache = new Map<string, unknown>();

function memo<T>(key: string, make: () => T): T {
  const hit = cache.get(key);
  if (hit !== undefined) return hit as T;
  const made = make();
  cache.set(key, made);
  return made;
}

function local(): boolean {
  return readEnv(ENV.awsEndpointUrl) !== undefined;
}

export function cloudWatchClient(region: string): CloudWatchClient {
  return memo(
    `cloudwatch:${region}`,
    () => new CloudWatchClient({ region, disableRequestCompression: local() }),
  );
}

export function sageMakerClient(region: string): SageMakerClient {
  return memo(`sagemaker:${region}`, () => new SageMakerClient({ region }));
}

export function dynamoDocumentClient(region: string): DynamoDBDocumentClient {
  return memo(`ddb:${region}`, () =>
    DynamoDBDocumentClient.from(new DynamoDBClient({ region }), {
      marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    }),
  );
}

/**
 * S3 in `region`. followRegionRedirects: a bucket in another region (a training job's checkpoint
 * bucket, a Data Capture bucket) answers 301 with its region and the SDK retries there, one extra
 * request, instead of failing with PermanentRedirect.
 */
export function s3Client(region: string): S3Client {
  return memo(
    `s3:${region}`,
    () => new S3Client({ region, followRegionRedirects: true, ...(local() ? { forcePathStyle: true } : {}) }),
  );
}

export function sqsClient(region: string): SQSClient {
  return memo(`sqs:${region}`, () => new SQSClient({ region }));
}

export function timestreamWriteClient(region: string): TimestreamWriteClient {
  const endpoint = readEnv(ENV.timestreamEndpoint) ?? readEnv(ENV.awsEndpointUrl);
  return memo(
    `timestream-write:${region}`,
    () => new TimestreamWriteClient({ region, ...(endpoint !== undefined ? { endpoint } : {}) }),
  );
}

/** SNS (incident notifications); AWS_ENDPOINT_URL is read by the SDK itself. */
export function snsClient(region: string): SNSClient {
  return memo(`sns:${region}`, () => new SNSClient({ region }));
}

/** Step Functions (remediation executions); AWS_ENDPOINT_URL is read by the SDK itself. */
export function sfnClient(region: string): SFNClient {
  return memo(`sfn:${region}`, () => new SFNClient({ region }));
}

/** For tests that point the process at a new emulator between suites. */
export function resetClients(): void {
  cache.clear();
}
