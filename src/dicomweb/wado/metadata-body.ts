/**
 * The metadata answer (PS3.18 10.4.1.2, Annex F): a JSON array of the DICOM JSON stored for each
 * instance at ingest. Nothing is parsed or re-serialised per request: the stored text is copied,
 * only its relative BulkDataURIs ("bulkdata/<tag path>") get the instance's public URL in front.
 * The stored text is written by dicom-json-stringify.ts, where a BulkDataURI attribute is always
 * the exact text `"BulkDataURI":"bulkdata/`; inside a JSON string value those quotes would be
 * escaped, so the replacement cannot touch a value.
 */
import { InstanceRef, MetadataEntry } from '../../stores/wado-types';

const RELATIVE = '"BulkDataURI":"bulkdata/';
/** Chunks of about this size go out; below it, a whole answer is sent with Content-Length. */
const CHUNK_CHARS = 256 * 1024;
const COLLECT_BYTES = 16 * 1024 * 1024;

/** `base` is the public DICOMweb root, e.g. "https://pacs.example.org/dicomweb". */
export function instanceUrl(base: string, ref: InstanceRef): string {
  return `${base}/studies/${ref.studyInstanceUid}/series/${ref.seriesInstanceUid}/instances/${ref.sopInstanceUid}`;
}

export async function* metadataChunks(entries: AsyncIterable<MetadataEntry>, base: string): AsyncGenerator<Buffer> {
  // The base URL goes into JSON strings: escape it as JSON would (quotes, backslashes).
  const jsonBase = JSON.stringify(base).slice(1, -1);
  let text = '[';
  let first = true;
  for await (const entry of entries) {
    if (!first) text += ',';
    first = false;
    const json = entry.json;
    text += json.includes(RELATIVE) ? json.replaceAll(RELATIVE, `"BulkDataURI":"${instanceUrl(jsonBase, entry.ref)}/bulkdata/`) : json;
    if (text.length >= CHUNK_CHARS) {
      yield Buffer.from(text, 'utf8');
      text = '';
    }
  }
  yield Buffer.from(text + ']', 'utf8');
}

/** The whole answer when it is small (sent with Content-Length), else the chunks to stream. */
export async function collectSmall(chunks: AsyncGenerator<Buffer>): Promise<{ whole?: Buffer; stream?: AsyncIterable<Buffer> }> {
  const collected: Buffer[] = [];
  let size = 0;
  for (;;) {
    const next = await chunks.next();
    if (next.done) return { whole: collected.length === 1 ? collected[0] : Buffer.concat(collected, size) };
    collected.push(next.value);
    size += next.value.length;
    if (size >= COLLECT_BYTES) break;
  }
  return {
    stream: (async function* () {
      yield* collected;
      yield* chunks;
    })(),
  };
}
