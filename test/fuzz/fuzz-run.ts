/**
 * Runs fuzz cases against a gateway process, one connection each, and judges every answer: no
 * status of 500 or more (507 only when the disk really is full), no hang, no answer missing where
 * the request was complete, and the process still alive. Every case is reproducible from the seed
 * and its category and index, which a finding names (FUZZ_ONLY=category#index runs just it).
 */
import { statfsSync } from 'node:fs';
import type { GatewayProcess } from '../helpers/test-gateway';
import { Prng } from './prng';
import { buildRequest, exchange, RawOutcome } from './raw-http';
import { FuzzRequest } from './stow-requests';

export interface Category {
  name: string;
  count: number;
  make(rng: Prng, tag: string): FuzzRequest;
}

export interface Finding {
  category: string;
  index: number;
  description: string;
  problem: string;
}

/** FUZZ_ONLY: comma-separated `category` or `category#index`; empty runs everything. */
export function caseFilter(only: string | undefined): (category: string, index: number) => boolean {
  const wanted = (only ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (wanted.length === 0) return () => true;
  return (category, index) => wanted.some((w) => w === category || w === `${category}#${index}`);
}

/** Status codes seen per category, for the summary the test prints. */
export class Tally {
  private readonly counts = new Map<string, Map<string, number>>();
  private readonly ran = new Map<string, number>();
  /** 4xx answers without a Warning header (Node's own 400s for broken HTTP, for instance). */
  private readonly bare = new Map<string, number>();

  record(category: string, outcome: RawOutcome): void {
    this.ran.set(category, (this.ran.get(category) ?? 0) + 1);
    const bare = outcome.responses.filter((r) => r.status >= 400 && r.status < 500 && r.headers.warning === undefined).length;
    if (bare > 0) this.bare.set(category, (this.bare.get(category) ?? 0) + bare);
    const labels = outcome.responses.length > 0 ? outcome.responses.map((r) => String(r.status)) : [outcome.ended === 'timeout' ? 'timeout' : 'closed-unanswered'];
    const byStatus = this.counts.get(category) ?? new Map<string, number>();
    for (const label of labels) byStatus.set(label, (byStatus.get(label) ?? 0) + 1);
    this.counts.set(category, byStatus);
  }

  get total(): number {
    return [...this.ran.values()].reduce((a, b) => a + b, 0);
  }

  lines(): string[] {
    return [...this.ran.entries()].map(([category, n]) => {
      const statuses = [...(this.counts.get(category) ?? new Map()).entries()].sort(([a], [b]) => a.localeCompare(b)).map(([s, c]) => `${s} x${c}`);
      const bare = this.bare.get(category);
      return `${category.padEnd(16)} ${String(n).padStart(4)} cases: ${statuses.join(', ')}${bare ? ` (${bare} 4xx without Warning)` : ''}`;
    });
  }
}

const CASE_TIMEOUT_MS = 10_000;
/** /health/live is asked every so many cases, and must answer 200 within 2 s. */
const HEALTH_PROBE_EVERY = 40;
/** A request refused before its body is read (STOW checks the URL and headers first) is answered
 *  and the connection closed while the client still sends; TCP then resets it, and the client
 *  may lose the answer that was already on its way. Only bodies beyond the socket buffers can. */
const EARLY_REFUSAL_BYTES = 256 * 1024;

function diskFull(dir: string): boolean {
  const s = statfsSync(dir);
  return s.bavail * s.bsize < 64 * 1024 * 1024;
}

/** The problems of one outcome, if any. */
export function judge(request: FuzzRequest, outcome: RawOutcome, dataDir: string): string[] {
  const problems: string[] = [];
  for (const r of outcome.responses) {
    if (r.status >= 500 && !(r.status === 507 && diskFull(dataDir))) {
      problems.push(`answered ${r.status}${r.headers.warning ? ` (${r.headers.warning.slice(0, 300)})` : ''}`);
    }
  }
  if (outcome.ended === 'timeout') problems.push(`neither answered nor closed within ${CASE_TIMEOUT_MS} ms`);
  else if (outcome.responses.length === 0 && !request.mayGoUnanswered && !(outcome.reset && request.bytes.length > EARLY_REFUSAL_BYTES)) {
    problems.push(`closed without an answer${outcome.reset ? ' (reset)' : ''}`);
  }
  return problems;
}

/** Runs every case of the categories in order; returns the findings (empty: all good). */
export async function runCategories(
  gw: GatewayProcess,
  seed: string,
  categories: Category[],
  tally: Tally,
  wanted: (category: string, index: number) => boolean,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  let sinceProbe = 0;
  for (const category of categories) {
    const rng = new Prng(`${seed}/${category.name}`);
    for (let index = 0; index < category.count; index++) {
      // Each case draws from its own stream: it is the same whatever runs before it.
      const request = category.make(rng.fork(index), `${seed}/${category.name}/${index}`);
      if (!wanted(category.name, index)) continue;
      const outcome = await exchange(gw.port, request, CASE_TIMEOUT_MS);
      tally.record(category.name, outcome);
      const problems = judge(request, outcome, gw.dataDir);
      if (gw.child.exitCode !== null || gw.child.signalCode !== null) {
        problems.push(`the gateway process exited (${gw.child.exitCode ?? gw.child.signalCode}); its output ends with:\n${gw.output().slice(-3000)}`);
      }
      if (problems.length === 0 && ++sinceProbe >= HEALTH_PROBE_EVERY) {
        sinceProbe = 0;
        const probe = await exchange(gw.port, { bytes: buildRequest({ target: '/health/live' }) }, 2_000);
        if (probe.responses[0]?.status !== 200) problems.push(`/health/live after this case: ${probe.responses[0]?.status ?? probe.ended} in ${probe.ms} ms`);
      }
      for (const problem of problems) findings.push({ category: category.name, index, description: request.description, problem });
      if (gw.child.exitCode !== null || gw.child.signalCode !== null) return findings;
    }
  }
  return findings;
}

export function describeFinding(seed: string, f: Finding): string {
  return `${f.category}#${f.index}: ${f.problem}\n    case: ${f.description.slice(0, 500)}\n    replay: FUZZ_SEED=${seed} FUZZ_ONLY=${f.category}#${f.index} node --test dist/test/e2e/hostile-input.test.js`;
}
