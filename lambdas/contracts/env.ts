/**
 * Environment variable names shared by infra (which sets them) and lambdas/wiring (which reads
 * them). No other module reads process.env.
 */
export const ENV = {
  /** JSON of RuntimeConfig (see runtime-config.ts), written by infra from the validated config. */
  runtimeConfig: 'FLEETWATCH_RUNTIME_CONFIG',
  /** DynamoDB table for small single-writer state: watermarks, inventories, detector state. */
  stateTable: 'FLEETWATCH_STATE_TABLE',
  /** DynamoDB table holding the current state and history of each SageMaker training job. */
  jobsTable: 'FLEETWATCH_JOBS_TABLE',
  /** Telemetry sink selection: 'timestream' (default) or 'none' (store-only, see ADR 0002). */
  sinkKind: 'FLEETWATCH_SINK',
  timestreamDatabase: 'FLEETWATCH_TIMESTREAM_DATABASE',
  timestreamGpuTable: 'FLEETWATCH_TIMESTREAM_GPU_TABLE',
  timestreamJobsTable: 'FLEETWATCH_TIMESTREAM_JOBS_TABLE',
  /**
   * Explicit Timestream endpoint (a local emulator in tests). When set, the client skips endpoint
   * discovery; AWS_ENDPOINT_URL alone would not, and would send writes to the real service.
   */
  timestreamEndpoint: 'FLEETWATCH_TIMESTREAM_ENDPOINT',
  /** Queue URL where messages that can never be processed are sent with their reason. */
  deadLetterQueueUrl: 'FLEETWATCH_DLQ_URL',
  /** JSON of the drift config section (drift-config.ts), set on check-drift only. */
  driftConfig: 'FLEETWATCH_DRIFT_CONFIG',
  /** Queue URL of the findings (incident) queue. */
  findingsQueueUrl: 'FLEETWATCH_FINDINGS_QUEUE_URL',
  /** S3 bucket of detector state (baselines, per-series memory), gzip'd JSON per key. */
  detectionStateBucket: 'FLEETWATCH_DETECTION_STATE_BUCKET',
  /** DynamoDB incidents table (incidents, silences, maintenance windows); the CLI's default --table. */
  incidentsTable: 'FLEETWATCH_INCIDENTS_TABLE',
  /** JSON of the router's config (wiring/router.ts routerConfigSchema): stackName, incidents, anomalyAlarms. */
  routerConfig: 'FLEETWATCH_ROUTER_CONFIG',
  /** SNS topic ARNs of the three severities (infra/constructs/notification-topics.ts). */
  pageTopicArn: 'FLEETWATCH_PAGE_TOPIC_ARN',
  ticketTopicArn: 'FLEETWATCH_TICKET_TOPIC_ARN',
  infoTopicArn: 'FLEETWATCH_INFO_TOPIC_ARN',
  /** Remediation state machine ARNs by router workflow (infra/constructs/remediation.ts). */
  stopJobStateMachineArn: 'FLEETWATCH_STOP_JOB_STATE_MACHINE_ARN',
  quarantineNodeStateMachineArn: 'FLEETWATCH_QUARANTINE_NODE_STATE_MACHINE_ARN',
  retrainStateMachineArn: 'FLEETWATCH_RETRAIN_STATE_MACHINE_ARN',
  /** The home stack's name (config.name): the CLI's default --stack (alarm mute rules of `maintenance add`). */
  stackName: 'FLEETWATCH_STACK_NAME',
  /** The login name: the CLI's default --author / actor in incident history. */
  user: 'USER',
  /** Standard AWS variable honoured by every SDK client we build (local emulators). */
  awsEndpointUrl: 'AWS_ENDPOINT_URL',
  awsRegion: 'AWS_REGION',
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
  serviceName: 'POWERTOOLS_SERVICE_NAME',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];
