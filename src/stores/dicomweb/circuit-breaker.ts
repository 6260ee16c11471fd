/**
 * A circuit breaker per upstream store: after `failureThreshold` consecutive failures it opens
 * and refuses calls at once (no piling up on a dead upstream) for `openMs`; then one trial call
 * is let through (half-open): success closes it, failure opens it again.
 */
export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  failureThreshold: number;
  openMs: number;
  now?: () => number;
}

export class CircuitOpen extends Error {
  constructor(readonly retryAfterMs: number) {
    super('the upstream is failing; calls are paused');
  }
}

export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;
  private readonly now: () => number;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  get state(): CircuitState {
    if (this.failures < this.options.failureThreshold) return 'closed';
    return this.now() - this.openedAt >= this.options.openMs ? 'half-open' : 'open';
  }

  /** Throws CircuitOpen when the call must not be made now. */
  enter(): void {
    const state = this.state;
    if (state === 'closed') return;
    if (state === 'half-open' && !this.trialInFlight) {
      this.trialInFlight = true;
      return;
    }
    throw new CircuitOpen(Math.max(0, this.options.openMs - (this.now() - this.openedAt)));
  }

  success(): void {
    this.failures = 0;
    this.trialInFlight = false;
  }

  failure(): void {
    this.trialInFlight = false;
    this.failures++;
    if (this.failures >= this.options.failureThreshold) this.openedAt = this.now();
  }
}
