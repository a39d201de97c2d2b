// Placeholder so the CDK app can synth while the real handler is written; replaced by its owner.
export const handler = async (): Promise<void> => {
  throw new Error('ingest-job-events: not implemented yet');
};
