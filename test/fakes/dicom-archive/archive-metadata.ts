/**
 * WADO-RS metadata (PS3.18 10.4.1.1.2) of instances the archive holds: each instance's DICOM JSON
 * with the caller's BulkDataURIs, in a stable order - by SeriesNumber, then InstanceNumber - so an
 * instance, a series or a study all come out the same way from every cloud layer.
 */
import { StoredInstance } from './dicom-archive';
import { DicomJsonDataset, firstNumber, withBulkDataUris } from './dicom-json';
import { T } from './dicom-tags';

const number = (i: StoredInstance, tag: string) => firstNumber(i.metadata, tag) ?? Number.MAX_SAFE_INTEGER;

/** The instances in that order (a copy): a study or series retrieve lists its parts the same way. */
export function inMetadataOrder(instances: StoredInstance[]): StoredInstance[] {
  return [...instances].sort((a, b) => number(a, T.SeriesNumber) - number(b, T.SeriesNumber) || number(a, T.InstanceNumber) - number(b, T.InstanceNumber) || a.sequence - b.sequence);
}

export function metadataOf(instances: StoredInstance[], bulkDataUri: (instance: StoredInstance, key: string) => string): DicomJsonDataset[] {
  return inMetadataOrder(instances).map((instance) => withBulkDataUris(instance.metadata, (key) => bulkDataUri(instance, key)));
}
