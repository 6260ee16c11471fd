/**
 * `npm run bench [-- --quick] [-- --only stow,qido,...]`: a fresh gateway and a fresh Orthanc,
 * the same data into both, every figure measured on both with repeats interleaved; a table on
 * stdout and the same rows as JSON lines in .bench/results.jsonl. Not a test: it never fails on a
 * slow machine.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Report } from './lib/report';
import { BenchServer, startGatewayServer, startOrthancServer } from './lib/servers';
import { chaosFigures } from './figures/chaos';
import { codecFigures } from './figures/codecs';
import { eventFigures } from './figures/events';
import { federatedFigures } from './figures/federated';
import { forwardingFigures } from './figures/forwarding';
import { memoryFigures } from './figures/memory';
import { metadataCacheFigures } from './figures/metadata-cache';
import { qidoFigures } from './figures/qido';
import { scaleFigures } from './figures/scale';
import { stowFigures } from './figures/stow';
import { upstreamFigures } from './figures/upstream';
import { wadoFigures } from './figures/wado';

const FIGURES: Record<string, (servers: BenchServer[], report: Report, options: { repeats: number; quick: boolean }) => Promise<void>> = {
  stow: stowFigures,
  qido: qidoFigures,
  wado: wadoFigures,
  codecs: codecFigures,
  memory: memoryFigures,
  scale: scaleFigures,
  upstream: upstreamFigures,
  forwarding: forwardingFigures,
  cache: metadataCacheFigures,
  events: eventFigures,
  chaos: chaosFigures,
  federated: federatedFigures,
};

/** Figures of later features with their own servers: in the full run, and in --quick only when
 *  named with --only, so that the quick run of the core figures stays under two minutes. */
const NOT_IN_QUICK = new Set(['upstream', 'forwarding', 'cache', 'events', 'chaos', 'federated']);

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const onlyArg = args.find((a) => a.startsWith('--only='))?.slice(7) ?? args[args.indexOf('--only') + 1];
  const only = args.includes('--only') || args.some((a) => a.startsWith('--only=')) ? new Set(onlyArg.split(',')) : undefined;
  const repeats = quick ? 3 : 5;
  const outDir = join(process.cwd(), '.bench');
  mkdirSync(outDir, { recursive: true });
  const report = new Report(join(outDir, 'results.jsonl'));
  const started = Date.now();
  console.log(`bench ${quick ? '(quick) ' : ''}${new Date().toISOString()}, ${repeats} interleaved repeats`);
  // No decoded-frame cache: the codec figures measure decoding, not the cache (no other figure decodes).
  const servers = [await startGatewayServer({ DECODED_FRAME_CACHE_BYTES: '0' }), await startOrthancServer()];
  try {
    for (const [name, run] of Object.entries(FIGURES)) {
      if (only && !only.has(name)) continue;
      if (!only && quick && NOT_IN_QUICK.has(name)) continue;
      await run(servers, report, { repeats, quick });
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
  console.log(`\n${report.table()}\n\n${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
