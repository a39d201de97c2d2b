import type { TestProject } from 'vitest/node';
import { type MotoServer, startMoto } from './moto-server';

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string;
  }
}

let server: MotoServer | undefined;

/** One moto server for the whole run; integration tests use unique resource names. */
export async function setup(project: TestProject): Promise<void> {
  server = await startMoto();
  project.provide('motoEndpoint', server.endpoint);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}
