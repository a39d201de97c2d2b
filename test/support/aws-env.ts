import { inject } from 'vitest';

/**
 * Points this test file's process at the shared moto server with throwaway credentials.
 * Call at the top of an integration test file (before building clients).
 */
export function useMoto(region = 'us-east-1'): { endpoint: string; region: string } {
  const endpoint = inject('motoEndpoint');
  process.env.AWS_ENDPOINT_URL = endpoint;
  process.env.FLEETWATCH_TIMESTREAM_ENDPOINT = endpoint;
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  process.env.AWS_REGION = region;
  process.env.AWS_DEFAULT_REGION = region;
  return { endpoint, region };
}

/** Resource-name suffix unique to this test run and file. */
export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}
