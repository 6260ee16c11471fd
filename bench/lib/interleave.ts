/**
 * Runs a measurement on every server for each repeat, alternating the order (A B, B A, ...) so
 * that drift on a shared machine (page cache, thermal, neighbours) does not favour one server.
 */
import { BenchServer } from './servers';

export type Metrics = Record<string, number>;

export async function interleaved(
  servers: BenchServer[],
  repeats: number,
  measure: (server: BenchServer, repeat: number) => Promise<Metrics>,
): Promise<Map<string, Map<string, number[]>>> {
  const out = new Map<string, Map<string, number[]>>(servers.map((s) => [s.name, new Map()]));
  for (let r = 0; r < repeats; r++) {
    const order = r % 2 === 0 ? servers : [...servers].reverse();
    for (const server of order) {
      const metrics = await measure(server, r);
      const bucket = out.get(server.name)!;
      for (const [k, v] of Object.entries(metrics)) {
        if (!bucket.has(k)) bucket.set(k, []);
        bucket.get(k)!.push(v);
      }
    }
  }
  return out;
}
