import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { type FleetWatchConfig, runtimeConfigFrom } from '../../lambdas/contracts/config';
import { resolveDriftConfig } from '../../lambdas/contracts/drift-config';
import { ENV } from '../../lambdas/contracts/env';
import { AnomalyAlarms } from '../constructs/anomaly-alarms';
import { FleetWatchDashboards } from '../constructs/dashboards';
import {
  DETECTION_STATE_PREFIX,
  DetectionState,
  grantListCheckpointBuckets,
} from '../constructs/detection-state';
import { DriftCheck } from '../constructs/drift-check';
import { EncryptionKey } from '../constructs/encryption-key';
import { FleetWatchFunction } from '../constructs/fleetwatch-function';
import { IncidentRouter } from '../constructs/incident-router';
import { IncidentsTable } from '../constructs/incidents-table';
import { InvocationSchedules } from '../constructs/invocation-schedules';
import { JobEventIngress } from '../constructs/job-event-ingress';
import {
  grantWriteUsageRecords,
  KPI_USAGE_PREFIX,
  KpiFunction,
  withNorthStarAlarm,
} from '../constructs/kpi-function';
import { NotificationTopics } from '../constructs/notification-topics';
import { PipelineAlarms, type WatchedResources } from '../constructs/pipeline-alarms';
import { Remediation } from '../constructs/remediation';
import { grantReadCloudWatchMetrics, grantReadTrainingJobs } from '../constructs/service-grants';
import { StateStores } from '../constructs/state-stores';
import {
  TIMESTREAM_AVAILABILITY_NOTICE,
  TIMESTREAM_TABLES,
  TimestreamSink,
} from '../constructs/timestream-sink';

export interface FleetWatchStackProps extends StackProps {
  /** The validated FleetWatch configuration (lambdas/contracts/config.ts). */
  readonly config: FleetWatchConfig;
}

/** Timeouts are part of the design: the queue visibility timeout and schedules derive from them. */
const COLLECTOR_TIMEOUT = Duration.minutes(5);
const INGEST_TIMEOUT = Duration.seconds(30);
const RECONCILE_TIMEOUT = Duration.minutes(5);
/** Lambda keeps an unprocessed async event at most this long. */
const LAMBDA_MAX_EVENT_AGE = Duration.hours(6);

/**
 * FleetWatch's home-region stack: the key, the state stores, the telemetry sink, the job event
 * ingress, the three foundation functions and their schedules. Other fleet regions forward their
 * SageMaker job events here (EventForwarderStack).
 */
export class FleetWatchStack extends Stack {
  readonly encryptionKey: EncryptionKey;
  readonly stores: StateStores;
  /** Undefined when config.sink.kind is 'none'. */
  readonly telemetrySink: TimestreamSink | undefined;
  readonly jobEvents: JobEventIngress;
  readonly collectGpuMetrics: FleetWatchFunction;
  readonly ingestJobEvents: FleetWatchFunction;
  readonly reconcileJobs: FleetWatchFunction;
  readonly schedules: InvocationSchedules;
  /** Anomaly-detection alarms and the FindingsQueue their state changes reach. */
  readonly anomalyAlarms: AnomalyAlarms;
  /** Findings for the incident router (today: CloudWatch alarm state change events). */
  readonly findingsQueue: sqs.Queue;
  /** check-drift and its schedule; undefined when config.drift.endpoints is empty. */
  readonly driftCheck: DriftCheck | undefined;
  /** Incidents, silences and maintenance windows; remediation audit entries and approval tokens. */
  readonly incidents: IncidentsTable;
  /** The page, ticket and info SNS topics with their subscriptions from config. */
  readonly notificationTopics: NotificationTopics;
  /** Remediation state machines (stop-training-job, quarantine-node, retrain-on-drift). */
  readonly remediation: Remediation;
  /** route-incidents (FindingsQueue consumer) and sweep-incidents (every minute). */
  readonly incidentRouter: IncidentRouter;
  /** S3 bucket of detector state (baselines, per-series memory), written by the collector's detection run. */
  readonly detectionState: DetectionState;
  /** compute-kpis (hourly): goodput and supporting KPIs as EMF, goodput-drop findings. */
  readonly kpis: KpiFunction;
  /** Alarms on FleetWatch itself (heartbeat, lag, DLQs, Lambda errors, state machines), to the page/ticket topics. */
  readonly pipelineAlarms: PipelineAlarms;
  /** Fleet overview, GPU health, jobs and SLA, incidents, model drift and health dashboards. */
  readonly dashboards: FleetWatchDashboards;

  constructor(scope: Construct, id: string, props: FleetWatchStackProps) {
    const { config } = props;
    const timestream = config.sink.kind === 'timestream';
    super(scope, id, {
      description:
        `FleetWatch: monitoring for GPU training fleets (home region ${config.homeRegion}; telemetry sink ` +
        `"${config.sink.kind}").${timestream ? ` NOTE: ${TIMESTREAM_AVAILABILITY_NOTICE}` : ''}`,
      ...props,
    });

    this.encryptionKey = new EncryptionKey(this, 'EncryptionKey', {
      alias: `${config.name.toLowerCase()}/data`,
    });
    const key = this.encryptionKey.key;
    this.stores = new StateStores(this, 'StateStores', { encryptionKey: key });
    this.telemetrySink = timestream
      ? new TimestreamSink(this, 'TelemetrySink', {
          databaseName: config.sink.databaseName,
          encryptionKey: key,
          memoryStoreRetentionHours: config.sink.memoryStoreRetentionHours,
          magneticStoreRetentionDays: config.sink.magneticStoreRetentionDays,
        })
      : undefined;
    this.jobEvents = new JobEventIngress(this, 'JobEventIngress', {
      encryptionKey: key,
      visibilityTimeout: Duration.seconds(INGEST_TIMEOUT.toSeconds() * 6),
    });

    const environment: Record<string, string> = {
      [ENV.runtimeConfig]: JSON.stringify(runtimeConfigFrom(config)),
      [ENV.stateTable]: this.stores.stateTable.tableName,
      [ENV.jobsTable]: this.stores.jobsTable.tableName,
      [ENV.sinkKind]: config.sink.kind,
      ...(this.telemetrySink
        ? {
            [ENV.timestreamDatabase]: this.telemetrySink.databaseName,
            [ENV.timestreamGpuTable]: TIMESTREAM_TABLES.gpuMetrics,
            [ENV.timestreamJobsTable]: TIMESTREAM_TABLES.trainingJobs,
          }
        : {}),
    };
    const common = {
      environment,
      logRetention: config.retention.logDays as logs.RetentionDays,
      encryptionKey: key,
    };

    this.collectGpuMetrics = new FleetWatchFunction(this, 'CollectGpuMetrics', {
      ...common,
      handlerName: 'collect-gpu-metrics',
      description:
        'Collects DCGM GPU metrics from CloudWatch into the telemetry sink (watermarked, backfills gaps)',
      timeout: COLLECTOR_TIMEOUT,
      memorySize: 2048,
      // Single writer of the collection watermarks.
      reservedConcurrentExecutions: 1,
    });
    this.stores.stateTable.grantReadWriteData(this.collectGpuMetrics);
    grantReadCloudWatchMetrics(this.collectGpuMetrics);
    this.telemetrySink?.grantWriteGpuMetrics(this.collectGpuMetrics);

    this.ingestJobEvents = new FleetWatchFunction(this, 'IngestJobEvents', {
      ...common,
      environment: { ...environment, [ENV.deadLetterQueueUrl]: this.jobEvents.deadLetterQueue.queueUrl },
      handlerName: 'ingest-job-events',
      description: 'Applies SageMaker training job state changes from the job events queue',
      timeout: INGEST_TIMEOUT,
      memorySize: 512,
    });
    this.ingestJobEvents.function.addEventSource(
      new lambdaEventSources.SqsEventSource(this.jobEvents.queue, {
        batchSize: 10,
        reportBatchItemFailures: true,
      }),
    );
    this.jobEvents.deadLetterQueue.grantSendMessages(this.ingestJobEvents);
    this.stores.grantJobStoreWriter(this.ingestJobEvents);
    this.telemetrySink?.grantWriteTrainingJobs(this.ingestJobEvents);

    this.reconcileJobs = new FleetWatchFunction(this, 'ReconcileJobs', {
      ...common,
      handlerName: 'reconcile-jobs',
      description: 'Repairs the job store from ListTrainingJobs/DescribeTrainingJob in every fleet region',
      timeout: RECONCILE_TIMEOUT,
      memorySize: 512,
      // Single writer of the sweep watermark.
      reservedConcurrentExecutions: 1,
    });
    this.stores.stateTable.grantReadWriteData(this.reconcileJobs);
    this.stores.grantJobStoreWriter(this.reconcileJobs);
    grantReadTrainingJobs(
      this.reconcileJobs,
      config.fleets.map((f) => f.region),
    );
    this.telemetrySink?.grantWriteTrainingJobs(this.reconcileJobs);

    const collectEvery = Duration.minutes(config.collection.cadenceMinutes);
    const reconcileEvery = Duration.minutes(config.jobs.reconcileEveryMinutes);
    // A scheduled run that cannot start (reserved concurrency busy) or fails is not retried by
    // Lambda past the next tick: the next run catches up from the watermark anyway.
    for (const [fn, every] of [
      [this.collectGpuMetrics, collectEvery],
      [this.reconcileJobs, reconcileEvery],
    ] as const) {
      fn.function.configureAsyncInvoke({
        retryAttempts: 0,
        maxEventAge: Duration.seconds(Math.min(every.toSeconds(), LAMBDA_MAX_EVENT_AGE.toSeconds())),
      });
    }

    this.schedules = new InvocationSchedules(this, 'Schedules', { encryptionKey: key });
    this.schedules.addRateSchedule('CollectGpuMetricsSchedule', {
      target: this.collectGpuMetrics.function,
      every: collectEvery,
      description: `FleetWatch: collect GPU metrics every ${config.collection.cadenceMinutes} min`,
    });
    this.schedules.addRateSchedule('ReconcileJobsSchedule', {
      target: this.reconcileJobs.function,
      every: reconcileEvery,
      description: `FleetWatch: reconcile training jobs every ${config.jobs.reconcileEveryMinutes} min`,
    });

    // The configured anomaly alarms plus the north-star goodput alarm (routed the same way).
    const anomalyAlarmList = withNorthStarAlarm(config.anomalyAlarms);
    this.anomalyAlarms = new AnomalyAlarms(this, 'AnomalyAlarms', {
      alarms: anomalyAlarmList,
      maintenance: config.maintenance,
      encryptionKey: key,
    });
    this.findingsQueue = this.anomalyAlarms.findingsQueue;

    this.driftCheck =
      config.drift.endpoints.length > 0
        ? new DriftCheck(this, 'DriftCheck', {
            drift: resolveDriftConfig(config.drift, config.homeRegion),
            stateTable: this.stores.stateTable,
            findingsQueue: this.findingsQueue,
            schedules: this.schedules,
            encryptionKey: key,
            logRetention: config.retention.logDays as logs.RetentionDays,
          })
        : undefined;

    // Detection runs inside the collector, over the window it just committed (issue 3).
    this.detectionState = new DetectionState(this, 'DetectionState', { encryptionKey: key });
    this.detectionState.grantReadWriteState(this.collectGpuMetrics);
    this.stores.grantQueryJobIndexes(this.collectGpuMetrics);
    this.findingsQueue.grantSendMessages(this.collectGpuMetrics);
    grantListCheckpointBuckets(this.collectGpuMetrics, this, config.jobs.checkpointBuckets);
    this.collectGpuMetrics.function.addEnvironment(
      ENV.detectionStateBucket,
      this.detectionState.bucket.bucketName,
    );
    this.collectGpuMetrics.function.addEnvironment(ENV.findingsQueueUrl, this.findingsQueue.queueUrl);

    // KPIs (issue 6): the detection run records usage per window; compute-kpis reads it hourly.
    grantWriteUsageRecords(this.collectGpuMetrics, this.detectionState.bucket, key);
    this.detectionState.expireUnder(KPI_USAGE_PREFIX, config.retention.kpiUsageDays);
    this.kpis = new KpiFunction(this, 'Kpis', {
      bucket: this.detectionState.bucket,
      stores: this.stores,
      findingsQueue: this.findingsQueue,
      schedules: this.schedules,
      encryptionKey: key,
      logRetention: config.retention.logDays as logs.RetentionDays,
    });

    this.incidents = new IncidentsTable(this, 'Incidents', { encryptionKey: key });
    this.notificationTopics = new NotificationTopics(this, 'Notifications', {
      encryptionKey: key,
      notifications: config.notifications,
    });
    const remediation = config.notifications.remediation;
    this.remediation = new Remediation(this, 'Remediation', {
      encryptionKey: key,
      incidentsTable: this.incidents.table,
      notifyTopic: this.notificationTopics.topic('page'),
      approvalTimeout: Duration.seconds(remediation.approvalTimeoutSeconds),
      ...(remediation.approvalHeartbeatSeconds === undefined
        ? {}
        : { approvalHeartbeat: Duration.seconds(remediation.approvalHeartbeatSeconds) }),
      quarantine: remediation.quarantine,
      ...(remediation.retrainPipelineName === undefined
        ? {}
        : { retrainPipelineName: remediation.retrainPipelineName }),
      logRetention: config.retention.logDays as logs.RetentionDays,
    });
    this.incidentRouter = new IncidentRouter(this, 'IncidentRouter', {
      settings: {
        stackName: this.stackName,
        incidents: config.incidents,
        anomalyAlarms: anomalyAlarmList,
        maintenance: config.maintenance,
        runbookBaseUrl: config.runbookBaseUrl,
      },
      incidentsTable: this.incidents,
      topics: this.notificationTopics,
      remediation: this.remediation,
      findingsQueue: this.findingsQueue,
      deadLetterQueue: this.anomalyAlarms.deadLetterQueue,
      schedules: this.schedules,
      encryptionKey: key,
      logRetention: config.retention.logDays as logs.RetentionDays,
    });
    new CfnOutput(this, 'IncidentsTableName', {
      value: this.incidents.table.tableName,
      description: 'DynamoDB table of incidents, silences and maintenance windows',
    });
    for (const [severity, arn] of Object.entries(this.notificationTopics.topicArns)) {
      new CfnOutput(this, `${severity[0]?.toUpperCase()}${severity.slice(1)}TopicArn`, {
        value: arn,
        description: `SNS topic of ${severity} notifications`,
      });
    }
    for (const [workflow, machine] of Object.entries(this.remediation.stateMachines)) {
      new CfnOutput(this, `${machine.node.id}StateMachineArn`, {
        value: machine.stateMachineArn,
        description: `Remediation workflow ${workflow}`,
      });
    }

    // Watch the watcher: add each new function, DLQ or state machine here (one list entry).
    const watched: WatchedResources = {
      collector: this.collectGpuMetrics.function,
      functions: [
        this.collectGpuMetrics,
        this.ingestJobEvents,
        this.reconcileJobs,
        ...(this.driftCheck ? [this.driftCheck.function] : []),
        this.kpis.function,
        this.incidentRouter.route,
        this.incidentRouter.sweep,
      ].map((f) => f.function),
      deadLetterQueues: [
        this.jobEvents.deadLetterQueue,
        this.anomalyAlarms.deadLetterQueue,
        this.schedules.deadLetterQueue,
      ],
      stateMachines: Object.values(this.remediation.stateMachines),
    };
    this.pipelineAlarms = new PipelineAlarms(this, 'PipelineAlarms', {
      watched,
      topics: {
        page: this.notificationTopics.topic('page'),
        ticket: this.notificationTopics.topic('ticket'),
      },
      collectionCadenceMinutes: config.collection.cadenceMinutes,
      collectionSettleMinutes: config.collection.settleMinutes,
      runbookBaseUrl: config.runbookBaseUrl,
    });
    this.dashboards = new FleetWatchDashboards(this, 'Dashboards', {
      config,
      watched,
      alarms: this.pipelineAlarms.alarmList,
    });

    this.outputs(config);
  }

  private outputs(config: FleetWatchConfig): void {
    const out = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    out('StateTableName', this.stores.stateTable.tableName, 'DynamoDB table of collector/detector state');
    out('JobsTableName', this.stores.jobsTable.tableName, 'DynamoDB table of SageMaker training jobs');
    out(
      'DetectionStateBucketName',
      this.detectionState.bucket.bucketName,
      `S3 bucket of detector state (objects under ${DETECTION_STATE_PREFIX})`,
    );
    out('JobEventsQueueUrl', this.jobEvents.queue.queueUrl, 'SQS queue of SageMaker job state changes');
    out('FindingsQueueUrl', this.findingsQueue.queueUrl, 'SQS queue of findings for the incident router');
    out('FindingsDlqUrl', this.anomalyAlarms.deadLetterQueue.queueUrl, 'Dead-letter queue of findings');
    out('JobEventsDlqUrl', this.jobEvents.deadLetterQueue.queueUrl, 'Dead-letter queue of job events');
    out(
      'ScheduleDlqUrl',
      this.schedules.deadLetterQueue.queueUrl,
      'Dead-letter queue of scheduled invocations',
    );
    out('CollectGpuMetricsFunctionName', this.collectGpuMetrics.function.functionName, 'Collector function');
    out('IngestJobEventsFunctionName', this.ingestJobEvents.function.functionName, 'Job event consumer');
    out('ReconcileJobsFunctionName', this.reconcileJobs.function.functionName, 'Job reconciliation sweep');
    out('TelemetrySinkKind', config.sink.kind, 'Telemetry sink ("none": no time-series store)');
    if (this.telemetrySink) {
      out('TimestreamDatabaseName', this.telemetrySink.databaseName, 'Timestream for LiveAnalytics database');
      out('TelemetrySinkNotice', TIMESTREAM_AVAILABILITY_NOTICE, 'Read before deploying');
    }
  }
}
