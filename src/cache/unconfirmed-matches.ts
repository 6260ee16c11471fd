/**
 * QIDO read-your-writes for remote stores: the studies stored through the gateway that the
 * upstream does not show yet (a cloud store still indexing) are searched in the metadata cache,
 * with the same matching rules as everywhere else (qido-post-filter.ts), and built into results of
 * the searched level with their computed attributes. The caller appends those the upstream did
 * not return, so nothing appears twice once the upstream shows them.
 */
import { DicomJsonObject } from '../dicom/dicom-json';
import { hex8 } from '../dicom/value-decoding';
import { QidoTags } from '../dicom/qido-attributes';
import { matchesAll } from '../stores/qido-post-filter';
import { QidoMatch, QidoQuery } from '../stores/qido-query';
import { splitResult } from '../stores/dicomweb/upstream-results';
import { CachedInstance, CachedStudy } from './cached-study';

const MODALITY = '00080060';
const STUDY_SERIES = hex8(QidoTags.NumberOfStudyRelatedSeries);
const STUDY_INSTANCES = hex8(QidoTags.NumberOfStudyRelatedInstances);
const MODALITIES = hex8(QidoTags.ModalitiesInStudy);
const SERIES_INSTANCES = hex8(QidoTags.NumberOfSeriesRelatedInstances);

/** The matches of `query` among one unconfirmed study's instances. */
export function matchesInStudy(query: QidoQuery, cached: CachedStudy): QidoMatch[] {
  const instances = [...cached.instances.values()].sort((a, b) => a.series.localeCompare(b.series) || a.sop.localeCompare(b.sop));
  if (instances.length === 0) return [];
  const parsed = new Map<string, DicomJsonObject>(instances.map((i) => [i.sop, JSON.parse(i.json) as DicomJsonObject]));
  const studyCounts = counts(instances, parsed);
  const candidates: QidoMatch[] = [];
  if (query.level === 'study') {
    candidates.push(withStudyCounts(splitResult(parsed.get(instances[0].sop)!, 'study'), studyCounts));
  } else {
    const bySeries = new Map<string, CachedInstance[]>();
    for (const i of instances) bySeries.set(i.series, [...(bySeries.get(i.series) ?? []), i]);
    for (const [series, members] of bySeries) {
      if (query.seriesUid !== undefined && series !== query.seriesUid) continue;
      if (query.level === 'series') {
        const match = withStudyCounts(splitResult(parsed.get(members[0].sop)!, 'series'), studyCounts);
        match.series![SERIES_INSTANCES] = { vr: 'IS', Value: [members.length] };
        candidates.push(match);
      } else {
        for (const member of members) {
          const match = withStudyCounts(splitResult(parsed.get(member.sop)!, 'instance'), studyCounts);
          match.series![SERIES_INSTANCES] = { vr: 'IS', Value: [members.length] };
          candidates.push(match);
        }
      }
    }
  }
  try {
    return candidates.filter((m) => matchesAll(m, query.conditions));
  } catch {
    return []; // a condition only the upstream can apply (a sequence key): add nothing rather than guess
  }
}

function counts(instances: CachedInstance[], parsed: Map<string, DicomJsonObject>): { series: number; instances: number; modalities: string[] } {
  const modalities = new Set<string>();
  for (const i of instances) {
    const m = parsed.get(i.sop)?.[MODALITY]?.Value?.[0];
    if (typeof m === 'string' && m !== '') modalities.add(m);
  }
  return { series: new Set(instances.map((i) => i.series)).size, instances: instances.length, modalities: [...modalities].sort() };
}

function withStudyCounts(match: QidoMatch, c: { series: number; instances: number; modalities: string[] }): QidoMatch {
  match.study[STUDY_SERIES] = { vr: 'IS', Value: [c.series] };
  match.study[STUDY_INSTANCES] = { vr: 'IS', Value: [c.instances] };
  match.study[MODALITIES] = c.modalities.length > 0 ? { vr: 'CS', Value: c.modalities } : { vr: 'CS' };
  return match;
}
