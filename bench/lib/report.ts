/**
 * One row per figure: both servers' medians over the interleaved repeats, their spread, and the
 * gateway/Orthanc ratio oriented so that > 1 always means "the gateway is better".
 */
import { appendFileSync } from 'node:fs';
import { Summary, summarize } from './stats';

export interface FigureRow {
  figure: string;
  unit: string;
  better: 'higher' | 'lower';
  gateway: Summary;
  orthanc?: Summary;
  /** Gateway advantage: gateway/orthanc for higher-is-better, orthanc/gateway for lower-is-better. */
  advantage?: number;
  target?: string;
  note?: string;
}

export class Report {
  readonly rows: FigureRow[] = [];

  constructor(private readonly jsonlPath?: string) {}

  add(row: Omit<FigureRow, 'gateway' | 'orthanc' | 'advantage'> & { gateway: number[]; orthanc?: number[] }): FigureRow {
    const g = summarize(row.gateway);
    const o = row.orthanc && row.orthanc.length > 0 ? summarize(row.orthanc) : undefined;
    const advantage = o ? (row.better === 'higher' ? g.median / o.median : o.median / g.median) : undefined;
    const out: FigureRow = { ...row, gateway: g, orthanc: o, advantage };
    this.rows.push(out);
    if (this.jsonlPath) appendFileSync(this.jsonlPath, JSON.stringify({ ...out, at: new Date().toISOString() }) + '\n');
    console.log(formatRow(out));
    return out;
  }

  table(): string {
    const head = '| figure | unit | gateway (median, min-max) | Orthanc (median, min-max) | gateway advantage | target |\n|---|---|---|---|---|---|';
    return [head, ...this.rows.map(formatRow)].join('\n');
  }
}

function num(v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toPrecision(2);
}

function cell(s: Summary | undefined): string {
  return s ? `${num(s.median)} (${num(s.min)}-${num(s.max)})` : '-';
}

export function formatRow(r: FigureRow): string {
  const adv = r.advantage === undefined ? '-' : `${num(r.advantage)}x`;
  return `| ${r.figure} | ${r.unit} | ${cell(r.gateway)} | ${cell(r.orthanc)} | ${adv} | ${r.target ?? ''}${r.note ? ` ${r.note}` : ''} |`;
}
