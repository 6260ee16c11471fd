/**
 * Matching of QIDO-RS conditions against results already in memory (DICOM JSON), by the same rules
 * as the embedded store (README, "QIDO-RS behaviour"): for remote stores whose upstream cannot be
 * given a condition exactly (a value it cannot receive, a list it does not understand), the
 * upstream is asked more broadly and the gateway keeps only the true matches. Shared by every
 * remote adapter, so none of them copies matching rules.
 *
 * Only conditions on the levels a result carries are matched here; relational keys (a series key
 * on a study search) are always left to the upstream.
 */
import { DicomJsonAttribute, DicomJsonObject } from '../dicom/dicom-json';
import { NUMERIC_VRS, numberKey, storedTemporalKey, upperCaseSameLength } from '../dicom/match-keys';
import { hex8 } from '../dicom/value-decoding';
import { MatchCondition, QidoMatch, ValueMatch } from './qido-query';

export function matchesAll(match: QidoMatch, conditions: MatchCondition[]): boolean {
  return conditions.every((c) => matchesCondition(match[c.level], c));
}

export function matchesCondition(object: DicomJsonObject | undefined, condition: MatchCondition): boolean {
  if (condition.attribute.itemTag !== undefined) throw new Error('sequence conditions are matched by the upstream');
  const attribute = object?.[hex8(condition.attribute.tag)];
  return condition.anyOf.some((m) => matchesValue(attribute, condition.vr, m));
}

function matchesValue(attribute: DicomJsonAttribute | undefined, vr: string, match: ValueMatch): boolean {
  const values = (attribute?.Value ?? []).filter((v) => v !== null && v !== undefined && v !== '');
  if (match.kind === 'empty') return values.length === 0;
  return values.some((value) => {
    switch (match.kind) {
      case 'single':
        return singleMatches(value, vr, match.value);
      case 'wildcard':
        return texts(value, vr, match.pattern).some(([text, key]) => wildcard(key, vr).test(text));
      case 'range': {
        if (typeof value !== 'string') return false;
        const key = storedTemporalKey(vr, value);
        return (match.low === undefined || key >= match.low) && (match.high === undefined || key <= match.high);
      }
    }
  });
}

function singleMatches(value: unknown, vr: string, wanted: string): boolean {
  if (NUMERIC_VRS.has(vr)) return numberKey(value) === wanted;
  return texts(value, vr, wanted).some(([text, key]) => text === key);
}

/**
 * The texts a value is compared as, each paired with the key in the same case. Person names:
 * without '=' in the key each component group is compared on its own, with '=' the whole value;
 * both ignoring case. Other values as they are.
 */
function texts(value: unknown, vr: string, key: string): [string, string][] {
  if (vr !== 'PN') return [[String(value), key]];
  const name = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : { Alphabetic: value };
  const groups = ['Alphabetic', 'Ideographic', 'Phonetic'].map((g) => (typeof name[g] === 'string' ? (name[g] as string) : ''));
  const upperKey = upperCaseSameLength(key);
  if (key.includes('=')) return [[upperCaseSameLength(groups.join('=').replace(/=+$/, '')), upperKey]];
  return groups.filter((g) => g !== '').map((g): [string, string] => [upperCaseSameLength(g), upperKey]);
}

const patterns = new Map<string, RegExp>();

/** '*' any run of characters, '?' exactly one character (not one byte), the rest literal. */
function wildcard(pattern: string, vr: string): RegExp {
  const id = `${vr === 'PN' ? 'i' : 's'}${pattern}`;
  let re = patterns.get(id);
  if (!re) {
    const body = [...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('');
    re = new RegExp(`^${body}$`, 'su');
    if (patterns.size > 1000) patterns.clear();
    patterns.set(id, re);
  }
  return re;
}
