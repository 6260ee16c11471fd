/**
 * A bounded load generator: `concurrency` workers run `task` until `count` tasks are done or
 * `durationMs` has passed, whichever comes first. It always stops by itself.
 */
export interface LoadResult {
  seconds: number;
  done: number;
  latenciesMs: number[];
}

export async function runLoad(options: {
  concurrency: number;
  count?: number;
  durationMs?: number;
  task: (index: number) => Promise<void>;
}): Promise<LoadResult> {
  const count = options.count ?? Number.MAX_SAFE_INTEGER;
  const deadline = options.durationMs ? Date.now() + options.durationMs : Number.MAX_SAFE_INTEGER;
  if (count === Number.MAX_SAFE_INTEGER && deadline === Number.MAX_SAFE_INTEGER) throw new Error('runLoad needs count or durationMs');
  let next = 0;
  const latenciesMs: number[] = [];
  const started = process.hrtime.bigint();
  const worker = async () => {
    while (next < count && Date.now() < deadline) {
      const i = next++;
      const t0 = process.hrtime.bigint();
      await options.task(i);
      latenciesMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, done: latenciesMs.length, latenciesMs };
}
