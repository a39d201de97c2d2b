import type { Severity } from './finding';

/**
 * NVIDIA Xid codes and what to do about them. Source: NVIDIA NVSentinel's Xid table (code,
 * mnemonic, recommended action, FATAL/NONFATAL) cross-checked against NVIDIA Health Validation;
 * see /work/shared/reference/aws-facts.md §3(d). Pure data: the detectors map an Xid to a finding
 * and the remediation workflow maps the action to a runbook.
 *
 * Actions:
 *   drain-reset-gpu    fatal for the GPU: drain the node, reset the GPU, return it to service
 *   drain-reboot-host  the GPU is gone from the bus: drain and reboot (or replace) the host
 *   restart-app        an application-level fault: the job restarts, the hardware is fine
 *   trend              a warning: count it per GPU, act when it recurs (it can predict failure)
 *   ignore             informational noise
 */
export const XID_ACTIONS = [
  'drain-reset-gpu',
  'drain-reboot-host',
  'restart-app',
  'trend',
  'ignore',
] as const;
export type XidAction = (typeof XID_ACTIONS)[number];

export interface XidInfo {
  readonly code: number;
  readonly mnemonic: string;
  readonly action: XidAction;
  /** NVSentinel's FATAL column: the GPU cannot keep running work until it is reset. */
  readonly fatal: boolean;
  readonly severity: Severity;
  readonly note: string;
}

type Entry = Omit<XidInfo, 'code'>;

const fatalReset = (mnemonic: string, note: string): Entry => ({
  mnemonic,
  action: 'drain-reset-gpu',
  fatal: true,
  severity: 'page',
  note,
});

// NVSentinel lists these with RESET_GPU; their names and FATAL flag were not verified, so they are
// not marked fatal (no page) but still call for a drained reset.
const resetUnverified = (code: number): Entry => ({
  mnemonic: `XID_${code}`,
  action: 'drain-reset-gpu',
  fatal: false,
  severity: 'ticket',
  note: 'NVSentinel recommends RESET_GPU; name and fatality not verified',
});

const TABLE: Readonly<Record<number, Entry>> = {
  13: {
    mnemonic: 'ROBUST_CHANNEL_GR_EXCEPTION',
    action: 'restart-app',
    fatal: false,
    severity: 'info',
    note: 'Graphics engine exception; usually an application fault',
  },
  31: {
    mnemonic: 'ROBUST_CHANNEL_FIFO_ERROR_MMU_ERR_FLT',
    action: 'restart-app',
    fatal: false,
    severity: 'info',
    note: 'GPU memory page fault; usually an illegal access by the application',
  },
  43: {
    mnemonic: 'ROBUST_CHANNEL_RESETCHANNEL_VERIF_ERROR',
    action: 'ignore',
    fatal: false,
    severity: 'info',
    note: 'GPU stopped processing a channel',
  },
  45: {
    mnemonic: 'XID_45',
    action: 'ignore',
    fatal: false,
    severity: 'info',
    note: 'Preemptive channel removal; common when a process is killed',
  },
  46: fatalReset('GPU_TIMEOUT_ERROR', 'Health Validation: critical; drain, reset the GPU'),
  48: fatalReset('ROBUST_CHANNEL_GPU_ECC_DBE', 'Uncorrectable double-bit ECC error; drain'),
  63: {
    mnemonic: 'INFOROM_DRAM_RETIREMENT_EVENT',
    action: 'trend',
    fatal: false,
    severity: 'info',
    note: 'Page retired or row marked for remapping; schedule a GPU reset to activate it',
  },
  64: fatalReset('INFOROM_DRAM_RETIREMENT_FAILURE', 'Page retirement or row remap failed'),
  74: fatalReset('NVLINK_ERROR', 'NVLink error'),
  79: {
    mnemonic: 'GPU_HAS_FALLEN_OFF_THE_BUS',
    action: 'drain-reboot-host',
    fatal: true,
    severity: 'page',
    note: 'GPU gone from the PCIe bus; reboot the host',
  },
  92: {
    mnemonic: 'EXCESSIVE_SBE_INTERRUPTS',
    action: 'trend',
    fatal: false,
    severity: 'info',
    note: 'High single-bit ECC rate; trend it, it can predict failure',
  },
  94: {
    mnemonic: 'CONTAINED_ERROR',
    action: 'restart-app',
    fatal: false,
    severity: 'ticket',
    note: 'Contained ECC error; only the affected application is hit',
  },
  95: fatalReset('UNCONTAINED_ERROR', 'Uncontained ECC error'),
  119: fatalReset('XID_119', 'GSP error class; NVIDIA marks it as needing drain and reset'),
  120: fatalReset('XID_120', 'GSP error class; NVIDIA marks it as needing drain and reset'),
  140: fatalReset('XID_140', 'NVIDIA marks it as needing drain and reset'),
  ...Object.fromEntries(
    [62, 109, 110, 136, 143, 144, 145, 146, 147, 148, 149, 150, 155, 156, 158].map((c) => [
      c,
      resetUnverified(c),
    ]),
  ),
};

/** Unknown codes are neither ignored nor paged: a ticket, and trend them until someone classifies them. */
export const UNKNOWN_XID: Entry = {
  mnemonic: 'UNKNOWN',
  action: 'trend',
  fatal: false,
  severity: 'ticket',
  note: 'Not in the FleetWatch Xid table; check NVIDIA’s Xid catalog',
};

export const KNOWN_XID_CODES: readonly number[] = Object.keys(TABLE)
  .map(Number)
  .sort((a, b) => a - b);

export function classifyXid(code: number): XidInfo {
  const entry = Object.hasOwn(TABLE, code) ? TABLE[code] : undefined;
  return { code, ...(entry ?? UNKNOWN_XID) };
}
