/**
 * GPU instance types FleetWatch knows: GPU count, model, board power limit (TDP) and the
 * temperature at which the GPU starts to slow down. Detectors use TDP for "busy but not working"
 * and the slowdown temperature for thermal alerts; the simulator uses all of it.
 * Figures: NVIDIA data sheets (SXM variants as fitted in these instances).
 */
export interface GpuInstanceSpec {
  readonly gpus: number;
  readonly gpuModel: string;
  readonly tdpWatts: number;
  readonly slowdownTempC: number;
  readonly memoryMiB: number;
}

export const GPU_INSTANCE_TYPES = {
  'p5.48xlarge': {
    gpus: 8,
    gpuModel: 'NVIDIA H100 80GB HBM3',
    tdpWatts: 700,
    slowdownTempC: 87,
    memoryMiB: 81_559,
  },
  'p5e.48xlarge': { gpus: 8, gpuModel: 'NVIDIA H200', tdpWatts: 700, slowdownTempC: 87, memoryMiB: 143_771 },
  'p5en.48xlarge': { gpus: 8, gpuModel: 'NVIDIA H200', tdpWatts: 700, slowdownTempC: 87, memoryMiB: 143_771 },
  'p4d.24xlarge': {
    gpus: 8,
    gpuModel: 'NVIDIA A100-SXM4-40GB',
    tdpWatts: 400,
    slowdownTempC: 85,
    memoryMiB: 40_960,
  },
  'p4de.24xlarge': {
    gpus: 8,
    gpuModel: 'NVIDIA A100-SXM4-80GB',
    tdpWatts: 400,
    slowdownTempC: 85,
    memoryMiB: 81_920,
  },
  'p3.16xlarge': {
    gpus: 8,
    gpuModel: 'Tesla V100-SXM2-16GB',
    tdpWatts: 300,
    slowdownTempC: 83,
    memoryMiB: 16_384,
  },
  'g5.48xlarge': { gpus: 8, gpuModel: 'NVIDIA A10G', tdpWatts: 300, slowdownTempC: 88, memoryMiB: 23_028 },
  'g5.12xlarge': { gpus: 4, gpuModel: 'NVIDIA A10G', tdpWatts: 300, slowdownTempC: 88, memoryMiB: 23_028 },
  'g6.48xlarge': { gpus: 8, gpuModel: 'NVIDIA L4', tdpWatts: 72, slowdownTempC: 88, memoryMiB: 23_034 },
  'g6e.48xlarge': { gpus: 8, gpuModel: 'NVIDIA L40S', tdpWatts: 350, slowdownTempC: 88, memoryMiB: 46_068 },
} as const satisfies Record<string, GpuInstanceSpec>;

export type KnownGpuInstanceType = keyof typeof GPU_INSTANCE_TYPES;
export const KNOWN_GPU_INSTANCE_TYPES = Object.keys(GPU_INSTANCE_TYPES) as KnownGpuInstanceType[];

export function gpuInstanceSpec(instanceType: string): GpuInstanceSpec | undefined {
  return Object.hasOwn(GPU_INSTANCE_TYPES, instanceType)
    ? GPU_INSTANCE_TYPES[instanceType as KnownGpuInstanceType]
    : undefined;
}
