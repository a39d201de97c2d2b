/**
 * AWS list prices FleetWatch's cost figures use (us-east-1; see ../shared/reference/aws-facts.md
 * for sources and dates). The one price table: README figures, benchmarks and reports derive from it.
 */
export const PRICES_USD = {
  /** GetMetricData, per metric requested (GMD-Metrics): $0.01 per 1,000. Not in the free tier. */
  getMetricDataPerMetric: 0.01 / 1_000,
  /** ListMetrics and other CloudWatch API requests beyond the free 1M: $0.01 per 1,000 requests. */
  cloudWatchApiRequest: 0.01 / 1_000,
  /** Timestream for LiveAnalytics writes, per 1 KiB write unit ($0.50 per million, 2020 snapshot). */
  timestreamWritePerKiB: 0.5 / 1_000_000,
  /** CloudWatch custom metric, per metric-month, first 10k tier. */
  customMetricMonth: 0.3,
  /** Standard-resolution alarm, per alarm-metric-month; an anomaly-detection alarm counts 3. */
  alarmMetricMonth: 0.1,
  /** Lambda arm64, per GB-second, and per request. */
  lambdaArmGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1_000_000,
  /**
   * The figures below (used by bench/cost.bench.ts) are us-east-1 list prices as remembered by the
   * author, as of 2025, NOT verified against the pricing pages at the time of writing (aws-facts.md
   * has no S3, SQS, SNS or DynamoDB prices yet). Free tiers are not subtracted.
   */
  /** S3 Standard PUT, COPY, POST and LIST requests: $0.005 per 1,000 (aws.amazon.com/s3/pricing). */
  s3PutOrListRequest: 0.005 / 1_000,
  /** S3 Standard GET and other reads: $0.0004 per 1,000. */
  s3GetRequest: 0.0004 / 1_000,
  /** SQS standard queue, per request (each 64 KiB chunk of a payload is one): $0.40 per million. */
  sqsRequest: 0.4 / 1_000_000,
  /** SNS standard topic publish, per request (64 KiB chunks): $0.50 per million; SQS deliveries free. */
  snsPublish: 0.5 / 1_000_000,
  /** DynamoDB on-demand, per write request unit (1 KiB): $0.625 per million (after the Nov 2024 cut). */
  dynamoDbWriteRequestUnit: 0.625 / 1_000_000,
  /** DynamoDB on-demand, per read request unit (4 KiB strongly consistent): $0.125 per million. */
  dynamoDbReadRequestUnit: 0.125 / 1_000_000,
} as const;

/** Hours in an average month, as AWS bills. */
export const HOURS_PER_MONTH = 730;

/**
 * EC2 on-demand list price per instance-hour (Linux, us-east-1), for the wasted-dollars KPI
 * (divided by the GPU count of lambdas/contracts/gpu-catalogue.ts to get $/GPU-hour).
 * Source: the EC2 on-demand pricing page (aws.amazon.com/ec2/pricing/on-demand), as remembered by
 * the author, NOT verified against it at the time of writing (aws-facts.md has no EC2 prices yet).
 * AWS cut P4d/P4de/P5 on-demand prices by up to 45 % in June 2025; the P-family figures below are
 * the earlier list prices and so overstate dollars for those types until someone verifies them.
 * Types missing here (p5e, p5en) are reported as unpriced GPU-hours, never priced at 0.
 */
export const GPU_INSTANCE_USD_PER_HOUR: Readonly<Record<string, { usd: number; asOf: string }>> = {
  'p5.48xlarge': { usd: 98.32, asOf: '2024 (before the June 2025 reduction)' },
  'p4d.24xlarge': { usd: 32.7726, asOf: '2024 (before the June 2025 reduction)' },
  'p4de.24xlarge': { usd: 40.9657, asOf: '2024 (before the June 2025 reduction)' },
  'p3.16xlarge': { usd: 24.48, asOf: '2024' },
  'g5.12xlarge': { usd: 5.672, asOf: '2024' },
  'g5.48xlarge': { usd: 16.288, asOf: '2024' },
  'g6.48xlarge': { usd: 13.3504, asOf: '2024' },
  'g6e.48xlarge': { usd: 30.13118, asOf: '2024' },
};
