/**
 * The domain's clock, one instance per process, shared by every handler (support desk, case workflow,
 * connection TTLs, event times, metrics buckets): the system clock, or with SUPPORTMAX_CLOCK=controlled
 * (tests and demos of the local face only) an OffsetClock the local gateway's `POST /@clock` moves.
 * A module of its own so that handlers which do not need runtime.ts (metrics) do not bundle it.
 * Operator sessions and customer tokens keep real time: moving the demo clock signs nobody in or out.
 */
import { OffsetClock } from '#core/offsetClock';
import { type Clock, systemClock } from '#core/ports';
import { optionalEnv } from './env';

function controlledFromEnv(): OffsetClock | undefined {
  const mode = optionalEnv('SUPPORTMAX_CLOCK') ?? 'system';
  if (mode === 'system') return undefined;
  if (mode === 'controlled') return new OffsetClock();
  throw new Error(`environment variable SUPPORTMAX_CLOCK must be "system" or "controlled", got "${mode}"`);
}

/** Set only in controlled mode: what the local face's clock route moves. */
export const controlledClock: OffsetClock | undefined = controlledFromEnv();

export const domainClock: Clock = controlledClock ?? systemClock;
