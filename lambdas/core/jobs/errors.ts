/** The job no longer exists (deleted between ListTrainingJobs and DescribeTrainingJob). Not retried. */
export class TrainingJobNotFoundError extends Error {
  override readonly name = 'TrainingJobNotFoundError';
  constructor(
    readonly region: string,
    readonly jobName: string,
    cause?: unknown,
  ) {
    super(`Training job ${jobName} was not found in ${region}`, { cause });
  }
}
