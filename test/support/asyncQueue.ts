/**
 * Values pushed by callbacks (handlers, socket listeners) and awaited in order by a test, so a test waits
 * for the event itself instead of sleeping. Test-only.
 */
export class AsyncQueue<T> {
  /** Everything ever pushed, in order. */
  readonly history: T[] = [];
  private readonly buffered: T[] = [];
  private readonly waiters: ((value: T) => void)[] = [];

  constructor(private readonly label = 'value') {}

  push(value: T): void {
    this.history.push(value);
    const waiter = this.waiters.shift();
    if (waiter) waiter(value);
    else this.buffered.push(value);
  }

  /** The next value not yet taken; rejects after timeoutMs so a missing event fails with a clear message. */
  next(timeoutMs = 5_000): Promise<T> {
    if (this.buffered.length > 0) return Promise.resolve(this.buffered.shift() as T);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`No ${this.label} arrived within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (value: T) => {
        clearTimeout(timer);
        resolve(value);
      };
      this.waiters.push(waiter);
    });
  }
}
