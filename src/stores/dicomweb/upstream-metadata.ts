/**
 * WADO-RS metadata through an upstream: its DICOM JSON with every BulkDataURI made relative
 * ("bulkdata/<tag path>", the form the embedded store keeps), so the gateway writes its own public
 * URL in front and a client never calls the upstream. The upstream's own URIs (Orthanc writes
 * ".../bulk/7fe00010", others use other schemes) are remembered by instance and tag path, for the
 * bulk data requests that usually follow; a Retrieve URL of the upstream is dropped.
 */
import { DicomJsonAttribute, DicomJsonObject } from '../../dicom/dicom-json';
import { stringifyDicomJson } from '../../dicom/dicom-json-stringify';
import { NotFound, UpstreamError } from '../store-errors';
import { InstanceRef, MetadataEntry, RetrieveScope } from '../wado-types';
import { UpstreamClient } from './upstream-client';
import { UID_KEYS } from './upstream-results';

const RETRIEVE_URL = '00081190';
/** Upstream BulkDataURIs remembered; the oldest are forgotten first. */
const REMEMBERED_URIS = 50_000;

export function scopePath(scope: RetrieveScope): string {
  let path = `/studies/${scope.studyInstanceUid}`;
  if (scope.level !== 'study') path += `/series/${scope.seriesInstanceUid}`;
  if (scope.level === 'instance') path += `/instances/${scope.sopInstanceUid}`;
  return path;
}

export function describeScope(scope: RetrieveScope): string {
  if (scope.level === 'study') return `Study ${scope.studyInstanceUid}`;
  if (scope.level === 'series') return `Series ${scope.seriesInstanceUid} of study ${scope.studyInstanceUid}`;
  return `Instance ${scope.sopInstanceUid} of series ${scope.seriesInstanceUid} of study ${scope.studyInstanceUid}`;
}

export class UpstreamMetadata {
  /** "sop uid|tag path" -> the upstream's BulkDataURI. */
  private readonly bulkUris = new Map<string, string>();

  constructor(private readonly client: UpstreamClient) {}

  async metadata(scope: RetrieveScope): Promise<AsyncIterable<MetadataEntry>> {
    const objects = await this.fetch(scope);
    const entries = objects.map((object) => this.entry(object));
    return (async function* () {
      yield* entries;
    })();
  }

  /** The upstream's URI of one bulk data value, from memory or from the instance's metadata. */
  async bulkUri(ref: InstanceRef, tagPath: string): Promise<string | undefined> {
    const key = `${ref.sopInstanceUid}|${tagPath}`;
    if (!this.bulkUris.has(key)) for (const object of await this.fetch({ level: 'instance', ...ref })) this.entry(object);
    return this.bulkUris.get(key);
  }

  /** The instance's metadata as the upstream has it (BulkDataURIs untouched), or undefined. */
  async instanceObject(ref: InstanceRef): Promise<DicomJsonObject | undefined> {
    try {
      return (await this.fetch({ level: 'instance', ...ref }))[0];
    } catch (e) {
      if (e instanceof NotFound) return undefined;
      throw e;
    }
  }

  private async fetch(scope: RetrieveScope): Promise<DicomJsonObject[]> {
    const { status, value } = await this.client.json<unknown>(
      { method: 'GET', path: `${scopePath(scope)}/metadata`, headers: { accept: 'application/dicom+json' }, what: `metadata of ${scope.level}` },
      (s) => s === 200 || s === 204 || s === 404,
    );
    const objects = Array.isArray(value) ? value.filter((v): v is DicomJsonObject => typeof v === 'object' && v !== null) : [];
    if (status !== 200 || objects.length === 0) {
      if (status === 200 && !Array.isArray(value)) throw new UpstreamError(`upstream metadata of ${scope.level} is not a JSON array`);
      throw new NotFound(`${describeScope(scope)} is not stored here`);
    }
    return objects;
  }

  private entry(object: DicomJsonObject): MetadataEntry {
    const uid = (key: string) => String(object[key]?.Value?.[0] ?? '');
    const ref = { studyInstanceUid: uid(UID_KEYS.study), seriesInstanceUid: uid(UID_KEYS.series), sopInstanceUid: uid(UID_KEYS.instance) };
    delete object[RETRIEVE_URL];
    this.relativize(object, '', ref.sopInstanceUid);
    return { ref, json: stringifyDicomJson(object) };
  }

  /** Replaces each BulkDataURI by "bulkdata/<tag path>", remembering the upstream's. */
  private relativize(object: DicomJsonObject, prefix: string, sop: string): void {
    for (const [key, attr] of Object.entries(object)) {
      const tag = key.toUpperCase();
      if (attr.vr === 'SQ' && Array.isArray(attr.Value)) {
        attr.Value.forEach((item, index) => {
          if (typeof item === 'object' && item !== null) this.relativize(item as DicomJsonObject, `${prefix}${tag}/${index}/`, sop);
        });
      }
      if (typeof attr.BulkDataURI === 'string') this.remember(attr, `${prefix}${tag}`, sop);
    }
  }

  private remember(attr: DicomJsonAttribute, path: string, sop: string): void {
    const key = `${sop}|${path}`;
    this.bulkUris.delete(key); // re-inserted last: the Map's order is the age order
    this.bulkUris.set(key, attr.BulkDataURI!);
    if (this.bulkUris.size > REMEMBERED_URIS) this.bulkUris.delete(this.bulkUris.keys().next().value!);
    attr.BulkDataURI = `bulkdata/${path}`;
  }
}
