/**
 * A clock that runs at real speed from an adjustable offset: `now = base.now() + offset`. Replays and demos
 * move "now" (advance, set) while durations measured on it stay real, so latencies are unaffected between
 * moves. Pure: the base clock is injected.
 */
import { type Clock, systemClock } from './ports';

/** ECMAScript's Date range: ±100,000,000 days around the epoch. */
const MAX_EPOCH_MS = 8.64e15;

export class OffsetClock implements Clock {
  private offsetMs = 0;

  constructor(private readonly base: Clock = systemClock) {}

  now(): number {
    return this.base.now() + this.offsetMs;
  }

  /** Moves now forward by `ms` (≥ 0) and returns the new now. */
  advance(ms: number): number {
    if (!(Number.isFinite(ms) && ms >= 0)) {
      throw new RangeError(`advanceMs must be a finite number of milliseconds ≥ 0, got ${ms}`);
    }
    return this.at(this.now() + ms);
  }

  /** Makes now `epochMs` (earlier or later) and returns it. */
  set(epochMs: number): number {
    if (!(Number.isFinite(epochMs) && Math.abs(epochMs) <= MAX_EPOCH_MS)) {
      throw new RangeError(`set must be epoch milliseconds within the Date range, got ${epochMs}`);
    }
    return this.at(epochMs);
  }

  private at(epochMs: number): number {
    if (Math.abs(epochMs) > MAX_EPOCH_MS) throw new RangeError(`${epochMs} is outside the Date range`);
    this.offsetMs = epochMs - this.base.now();
    return epochMs;
  }
}
