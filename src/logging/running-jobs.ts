/**
 * Queue jobs being worked on in this process (forwarding, webhook deliveries), each run under the
 * id of the request that caused it, so that its log lines and its upstream calls carry that id.
 * The list is what a shutdown past its deadline reports as unfinished. One process, one gateway:
 * a module-level registry, so that the queue workers need no extra wiring.
 */
import { runWithRequestId } from './request-context';

export interface RunningJob {
  /** What the job is, for people ("forward 2.25.1234 to pacs"): UIDs and names, never PHI. */
  readonly what: string;
  readonly requestId?: string;
  readonly startedAt: number;
}

const running = new Set<RunningJob>();

export async function runJob<T>(what: string, requestId: string | undefined, work: () => Promise<T>): Promise<T> {
  const job: RunningJob = { what, requestId, startedAt: Date.now() };
  running.add(job);
  try {
    return await runWithRequestId(requestId, work);
  } finally {
    running.delete(job);
  }
}

export function runningJobs(): RunningJob[] {
  return [...running];
}
