import { z } from 'zod';
import { SIGNAL_NAMES } from './signals';

/**
 * A metric source profile says what DCGM telemetry is called in CloudWatch on one telemetry path
 * and how to turn it into canonical signals. Profiles are data: a user adds one in config.
 */
export const CLOUDWATCH_STATS = ['Average', 'Maximum', 'Minimum', 'Sum', 'SampleCount'] as const;

export const profileSignalSchema = z.strictObject({
  signal: z.enum(SIGNAL_NAMES),
  metricName: z.string().min(1).max(255),
  stat: z.enum(CLOUDWATCH_STATS).default('Average'),
  /** Multiply the raw value by this (unit conversion, e.g. bytes to MiB). */
  scale: z.number().positive().default(1),
  /**
   * 'sum-over-gpus': the series is one value per host summed over its GPUs (SageMaker's
   * GPUUtilization reads 0-800 on 8 GPUs); it is divided by the node's GPU count.
   */
  aggregation: z.enum(['per-gpu', 'sum-over-gpus']).default('per-gpu'),
});

export const profileSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes, at most 63'),
  description: z.string().default(''),
  namespace: z.string().min(1).max(255),
  /** Dimension names that identify the node, tried in order; the first one present wins. */
  nodeDimensions: z.array(z.string().min(1)).min(1),
  /** Dimension holding the GPU index or device; absent when series are per host (gpu label 'all'). */
  gpuDimension: z.string().min(1).optional(),
  /**
   * Where the training job name is, if the series carries it: a dimension and a regular
   * expression with a named group `job` (SageMaker: Host = "<job>/algo-<n>").
   */
  job: z.strictObject({ dimension: z.string().min(1), pattern: z.string().min(1) }).optional(),
  signals: z.array(profileSignalSchema).min(1),
});

export type MetricSourceProfile = z.output<typeof profileSchema>;
export type ProfileSignal = z.output<typeof profileSignalSchema>;

const MIB = 1 / 1_048_576;

/** Built-in profiles (input form; parsed through profileSchema by builtinProfiles()). */
const BUILTIN_PROFILE_INPUTS: z.input<typeof profileSchema>[] = [
  {
    name: 'dcgm-exporter',
    description:
      'dcgm-exporter fields (DCGM_FI_*) scraped into CloudWatch by the CloudWatch agent (Prometheus) or ADOT',
    namespace: 'CWAgent/DCGM',
    nodeDimensions: ['Hostname', 'hostname', 'InstanceId', 'host'],
    gpuDimension: 'gpu',
    signals: [
      { signal: 'gpu_util', metricName: 'DCGM_FI_DEV_GPU_UTIL' },
      { signal: 'sm_active', metricName: 'DCGM_FI_PROF_SM_ACTIVE' },
      { signal: 'tensor_active', metricName: 'DCGM_FI_PROF_PIPE_TENSOR_ACTIVE' },
      { signal: 'fb_used', metricName: 'DCGM_FI_DEV_FB_USED' },
      { signal: 'fb_total', metricName: 'DCGM_FI_DEV_FB_TOTAL' },
      { signal: 'temperature', metricName: 'DCGM_FI_DEV_GPU_TEMP', stat: 'Maximum' },
      { signal: 'power', metricName: 'DCGM_FI_DEV_POWER_USAGE' },
      { signal: 'xid', metricName: 'DCGM_FI_DEV_XID_ERRORS', stat: 'Maximum' },
      { signal: 'ecc_sbe', metricName: 'DCGM_FI_DEV_ECC_SBE_VOL_TOTAL', stat: 'Maximum' },
      { signal: 'ecc_dbe', metricName: 'DCGM_FI_DEV_ECC_DBE_VOL_TOTAL', stat: 'Maximum' },
      { signal: 'clock_events', metricName: 'DCGM_FI_DEV_CLOCKS_EVENT_REASONS', stat: 'Maximum' },
      { signal: 'pcie_replay', metricName: 'DCGM_FI_DEV_PCIE_REPLAY_COUNTER', stat: 'Maximum' },
      {
        signal: 'nvlink_errors',
        metricName: 'DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL',
        stat: 'Maximum',
      },
      { signal: 'remapped_rows', metricName: 'DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS', stat: 'Maximum' },
      { signal: 'row_remap_failure', metricName: 'DCGM_FI_DEV_ROW_REMAP_FAILURE', stat: 'Maximum' },
    ],
  },
  {
    name: 'cloudwatch-agent-nvidia-smi',
    description: "The CloudWatch agent's nvidia_gpu section (nvidia_smi_*): no ECC, Xid or throttle reasons",
    namespace: 'CWAgent',
    nodeDimensions: ['host', 'InstanceId'],
    gpuDimension: 'index',
    signals: [
      { signal: 'gpu_util', metricName: 'nvidia_smi_utilization_gpu' },
      { signal: 'fb_used', metricName: 'nvidia_smi_memory_used' },
      { signal: 'fb_total', metricName: 'nvidia_smi_memory_total' },
      { signal: 'temperature', metricName: 'nvidia_smi_temperature_gpu', stat: 'Maximum' },
      { signal: 'power', metricName: 'nvidia_smi_power_draw' },
    ],
  },
  {
    name: 'container-insights',
    description: 'EKS Container Insights with enhanced observability (node_gpu_*), per GPU device',
    namespace: 'ContainerInsights',
    nodeDimensions: ['NodeName', 'InstanceId'],
    gpuDimension: 'GpuDevice',
    signals: [
      { signal: 'gpu_util', metricName: 'node_gpu_utilization' },
      { signal: 'tensor_active', metricName: 'node_gpu_tensor_core_utilization', scale: 0.01 },
      { signal: 'fb_used', metricName: 'node_gpu_memory_used', scale: MIB },
      { signal: 'fb_total', metricName: 'node_gpu_memory_total', scale: MIB },
      { signal: 'temperature', metricName: 'node_gpu_temperature', stat: 'Maximum' },
      { signal: 'power', metricName: 'node_gpu_power_draw' },
    ],
  },
  {
    name: 'sagemaker-training',
    description: "SageMaker training jobs' own host metrics (/aws/sagemaker/TrainingJobs), summed over GPUs",
    namespace: '/aws/sagemaker/TrainingJobs',
    nodeDimensions: ['Host'],
    job: { dimension: 'Host', pattern: '^(?<job>.+)/algo-\\d+$' },
    signals: [{ signal: 'gpu_util', metricName: 'GPUUtilization', aggregation: 'sum-over-gpus' }],
  },
];

export function builtinProfiles(): MetricSourceProfile[] {
  return BUILTIN_PROFILE_INPUTS.map((p) => profileSchema.parse(p));
}

export const BUILTIN_PROFILE_NAMES = BUILTIN_PROFILE_INPUTS.map((p) => p.name);
