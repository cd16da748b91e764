import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';

describe('instrumented handlers', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('count a failed invocation in the Errors metric by handler, and still fail', async () => {
    // Prepare
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'SupportMax');
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const { instrumented } = await import('#handlers/shared/middleware');
    const handler = instrumented(async () => {
      throw new Error('boom');
    });

    // Act
    const result = handler({}, { functionName: 'supportmax-case-step', awsRequestId: 'r1' } as Context);

    // Assess
    await expect(result).rejects.toThrow('boom');
    const emf = written
      .flatMap((line) => line.split('\n'))
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(emf).toContainEqual(expect.objectContaining({ Errors: 1, handler: 'supportmax-case-step' }));
  });
});
