import { InMemoryJobStore } from '../../../lambdas/adapters/memory/job-store';
import { jobStoreContract } from './job-store-contract';

jobStoreContract('InMemoryJobStore', () => new InMemoryJobStore());
