/**
 * Faults a test arms on the DICOMweb server: the next N requests are throttled (429
 * RESOURCE_EXHAUSTED) or fail (500 INTERNAL, 503 UNAVAILABLE). Faults armed together are used up
 * in the order they were armed; a request takes at most one.
 */
export interface Fault {
  kind: 'throttle' | 'fail';
  status: number;
}

export class FaultInjection {
  private armed: (Fault & { remaining: number })[] = [];

  throttleNext(count: number): void {
    if (count > 0) this.armed.push({ kind: 'throttle', status: 429, remaining: count });
  }

  failNext(count: number, status = 500): void {
    if (count > 0) this.armed.push({ kind: 'fail', status, remaining: count });
  }

  take(): Fault | undefined {
    const fault = this.armed.find((f) => f.remaining > 0);
    if (!fault) return undefined;
    fault.remaining--;
    this.armed = this.armed.filter((f) => f.remaining > 0);
    return { kind: fault.kind, status: fault.status };
  }
}
