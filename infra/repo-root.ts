import { fileURLToPath } from 'node:url';

/**
 * Absolute path of the repository root (this file lives in infra/). Lambda entry points and the
 * lock file are resolved from here, so synth works from any working directory (cdk, vitest, IDE).
 */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
