/**
 * Faults a test arms on the fake: the next N requests (to one host, or to any) are throttled or
 * fail. Faults armed together are used up in the order they were armed; a request takes at most one.
 */
export type HostName = 'dicomweb' | 'control' | 's3';

export interface Fault {
  kind: 'throttle' | 'fail';
  status: number;
}

interface ArmedFault extends Fault {
  remaining: number;
  host?: HostName;
}

export class FaultInjection {
  private armed: ArmedFault[] = [];

  throttleNext(count: number, host?: HostName): void {
    if (count > 0) this.armed.push({ kind: 'throttle', status: 429, remaining: count, host });
  }

  failNext(count: number, status = 500, host?: HostName): void {
    if (count > 0) this.armed.push({ kind: 'fail', status, remaining: count, host });
  }

  /** The fault this request to `host` gets, if any (and one less of it). */
  take(host: HostName): Fault | undefined {
    const fault = this.armed.find((f) => f.remaining > 0 && (f.host === undefined || f.host === host));
    if (!fault) return undefined;
    fault.remaining--;
    this.armed = this.armed.filter((f) => f.remaining > 0);
    return { kind: fault.kind, status: fault.status };
  }
}
