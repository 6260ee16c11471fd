/**
 * The longer chaos run of edge forwarding (test/e2e/edge-chaos.test.ts with CHAOS_SCALE=3: three
 * times the studies and the kills of the test-suite version). Reported as the run's duration and
 * whether every acknowledged instance arrived once, byte for byte, with STAT first.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Report } from '../lib/report';
import { BenchServer } from '../lib/servers';

export async function chaosFigures(_servers: BenchServer[], report: Report, options: { repeats: number; quick: boolean }): Promise<void> {
  const scale = options.quick ? 1 : 3;
  const test = join(__dirname, '..', '..', 'test', 'e2e', 'edge-chaos.test.js');
  const t0 = Date.now();
  const run = spawnSync(process.execPath, ['--test', test], { env: { ...process.env, CHAOS_SCALE: String(scale) }, encoding: 'utf8', timeout: 15 * 60_000 });
  const seconds = (Date.now() - t0) / 1000;
  const passed = run.status === 0;
  const seed = /chaos seed (\d+)/.exec(run.stdout)?.[1];
  if (!passed) console.log(run.stdout.split('\n').filter((l) => /error:|not ok/.test(l)).join('\n'));
  report.add({
    figure: `edge chaos x${scale}: ${24 * scale * 10 + 46} instances, ${4 * scale + 1} SIGKILLs, Redis keys lost, destination down`,
    unit: 'passed (1) / failed (0)',
    better: 'higher',
    gateway: [passed ? 1 : 0],
    target: '1',
    note: `(${seconds.toFixed(0)} s, seed ${seed ?? '?'})`,
  });
}
