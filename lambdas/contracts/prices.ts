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
} as const;

/** Hours in an average month, as AWS bills. */
export const HOURS_PER_MONTH = 730;
