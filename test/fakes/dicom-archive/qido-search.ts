/**
 * QIDO-RS search over the archive's visible instances (PS3.18 10.6): studies, series or instances,
 * optionally inside a study or series from the path; match keys, fuzzy person names, includefield,
 * the computed attributes (ModalitiesInStudy, NumberOfStudyRelatedSeries/Instances,
 * NumberOfSeriesRelatedInstances), then the caller's order, then offset and limit.
 *
 * A study's or series' attributes are those of its most recently stored instance.
 */
import { StoredInstance } from './dicom-archive';
import { DicomJsonDataset, withBulkDataUris } from './dicom-json';
import { T } from './dicom-tags';
import { matchesKey } from './qido-matching';
import { QidoLevel, QidoQuery } from './qido-query';
import { defaultReturnTags } from './qido-return-attributes';

export interface QidoEntity {
  level: QidoLevel;
  studyInstanceUid: string;
  seriesInstanceUid?: string;
  sopInstanceUid?: string;
  /** The instance whose attributes stand for the entity: the most recently stored one. */
  representative: StoredInstance;
  /** The highest storage sequence among the entity's instances: "last update". */
  lastUpdate: number;
  attributes: DicomJsonDataset;
}

export type QidoOrder = (a: QidoEntity, b: QidoEntity) => number;

export interface QidoSearchOptions {
  /** Result order before paging; default: by UID, so results are deterministic. */
  order?: QidoOrder;
  /** Absolute or relative URI of a bulk value in a result (includefield=all can bring some). */
  bulkDataUri(instance: StoredInstance, key: string): string;
  /** RetrieveURL (0008,1190) of a result, if the cloud layer has one for that level. */
  retrieveUrl?(entity: QidoEntity): string | undefined;
}

export const qidoOrders = {
  lastUpdateDescending: ((a, b) => b.lastUpdate - a.lastUpdate) as QidoOrder,
  /** By an integer attribute (SeriesNumber, InstanceNumber), absent last, then by UID. */
  numberAscending(tag: string): QidoOrder {
    return (a, b) => numberOf(a, tag) - numberOf(b, tag) || byUid(a, b);
  },
};

function numberOf(entity: QidoEntity, tag: string): number {
  const n = Number(entity.attributes[tag]?.Value?.[0]);
  return Number.isFinite(n) ? n : Number.MAX_SAFE_INTEGER;
}

function uidOf(entity: QidoEntity): string {
  return entity.sopInstanceUid ?? entity.seriesInstanceUid ?? entity.studyInstanceUid;
}

function byUid(a: QidoEntity, b: QidoEntity): number {
  return uidOf(a) < uidOf(b) ? -1 : uidOf(a) > uidOf(b) ? 1 : 0;
}

interface Group {
  instances: StoredInstance[];
  series: Set<string>;
  modalities: Set<string>;
}

function group(instances: StoredInstance[], keyOf: (i: StoredInstance) => string): Map<string, Group> {
  const groups = new Map<string, Group>();
  for (const instance of instances) {
    const key = keyOf(instance);
    const g = groups.get(key) ?? { instances: [], series: new Set<string>(), modalities: new Set<string>() };
    g.instances.push(instance);
    g.series.add(instance.seriesInstanceUid);
    const modality = instance.metadata[T.Modality]?.Value?.[0];
    if (typeof modality === 'string' && modality !== '') g.modalities.add(modality);
    groups.set(key, g);
  }
  return groups;
}

function newest(instances: StoredInstance[]): StoredInstance {
  return instances.reduce((a, b) => (b.sequence > a.sequence ? b : a));
}

const seriesKey = (i: StoredInstance) => `${i.studyInstanceUid}/${i.seriesInstanceUid}`;

export function searchInstances(all: StoredInstance[], query: QidoQuery, options: QidoSearchOptions): DicomJsonDataset[] {
  const { scope } = query;
  const studies = group(all, (i) => i.studyInstanceUid);
  const series = group(all, seriesKey);
  const inScope = all.filter(
    (i) => (!scope.studyInstanceUid || i.studyInstanceUid === scope.studyInstanceUid) && (!scope.seriesInstanceUid || i.seriesInstanceUid === scope.seriesInstanceUid),
  );

  const computed = (instance: StoredInstance): DicomJsonDataset => {
    const study = studies.get(instance.studyInstanceUid)!;
    const ownSeries = series.get(seriesKey(instance))!;
    return {
      [T.InstanceAvailability]: { vr: 'CS', Value: ['ONLINE'] },
      [T.ModalitiesInStudy]: study.modalities.size > 0 ? { vr: 'CS', Value: [...study.modalities].sort() } : { vr: 'CS' },
      [T.NumberOfStudyRelatedSeries]: { vr: 'IS', Value: [study.series.size] },
      [T.NumberOfStudyRelatedInstances]: { vr: 'IS', Value: [study.instances.length] },
      [T.NumberOfSeriesRelatedInstances]: { vr: 'IS', Value: [ownSeries.instances.length] },
    };
  };

  const entities: QidoEntity[] = [];
  const addEntity = (level: QidoLevel, members: StoredInstance[]) => {
    const representative = newest(members);
    entities.push({
      level,
      studyInstanceUid: representative.studyInstanceUid,
      seriesInstanceUid: level === 'studies' ? undefined : representative.seriesInstanceUid,
      sopInstanceUid: level === 'instances' ? representative.sopInstanceUid : undefined,
      representative,
      lastUpdate: representative.sequence,
      attributes: { ...representative.metadata, ...computed(representative) },
    });
  };
  if (scope.level === 'studies') group(inScope, (i) => i.studyInstanceUid).forEach((g) => addEntity('studies', g.instances));
  else if (scope.level === 'series') group(inScope, seriesKey).forEach((g) => addEntity('series', g.instances));
  else inScope.forEach((i) => addEntity('instances', [i]));

  const matching = entities.filter((e) => query.keys.every((key) => matchesKey(e.attributes[key.tag], key, query.fuzzyMatching)));
  matching.sort(options.order ?? byUid);
  const page = matching.slice(query.offset, query.offset + query.limit);

  const wanted = defaultReturnTags(scope.level, !!scope.studyInstanceUid, !!scope.seriesInstanceUid);
  query.keys.forEach((k) => wanted.add(k.tag));
  query.includeTags.forEach((t) => wanted.add(t));
  return page.map((entity) => {
    const tags = query.includeAll ? new Set([...wanted, ...Object.keys(entity.attributes)]) : wanted;
    const result: DicomJsonDataset = {};
    for (const tag of [...tags].sort()) {
      if (tag === T.PixelData) continue; // a search result never carries pixels
      if (tag === T.RetrieveURL) {
        const url = options.retrieveUrl?.(entity);
        if (url) result[tag] = { vr: 'UR', Value: [url] };
        continue;
      }
      const attribute = entity.attributes[tag];
      if (attribute) result[tag] = attribute;
    }
    return withBulkDataUris(result, (key) => options.bulkDataUri(entity.representative, key));
  });
}
