/**
 * An embedded store filled straight through its index (no HTTP), and QIDO-RS run against it with
 * the gateway's own parsing and answer building: for tests of the matching rules.
 */
import { parsePart10Buffer } from '../../src/dicom/part10-parser';
import { toDicomJson } from '../../src/dicom/dicom-json';
import { LocalStore } from '../../src/stores/local/local-store';
import { QidoLevel } from '../../src/stores/qido-query';
import { QidoPath, parseQidoRequest } from '../../src/dicomweb/qido/qido-request';
import { qidoResponseBody } from '../../src/dicomweb/qido/qido-response';
import { makeTempDir } from './temp-dir';

export interface TestStore {
  store: LocalStore;
  add(files: Buffer[]): Promise<void>;
  /** Results as parsed JSON, e.g. search('study', 'PatientID=X'). */
  search(level: QidoLevel, query: string, path?: QidoPath, limits?: { defaultLimit: number; maxLimit: number }): Promise<SearchAnswer>;
  close(): Promise<void>;
}

export interface SearchAnswer {
  results: Record<string, { vr: string; Value?: any[] }>[];
  more: boolean;
  serverLimited: boolean;
  /** Keys left out, by the parser and by the store (the answer's Warning headers). */
  ignored: string[];
}

export const BASE = 'http://gateway.test/dicomweb';

export async function openTestStore(): Promise<TestStore> {
  const dir = makeTempDir('qido-store');
  const store = new LocalStore('default', dir.path);
  return {
    store,
    add: async (files) => {
      for (const file of files) {
        const parsed = await parsePart10Buffer(file);
        const metadata = toDicomJson(parsed.dataset, { littleEndian: parsed.littleEndian, bulkDataUri: (p) => `bulkdata/${p}` });
        const v = (tag: string) => metadata[tag].Value![0] as string;
        store.index.insertInstance({
          identity: {
            studyInstanceUid: v('0020000D'),
            seriesInstanceUid: v('0020000E'),
            sopInstanceUid: v('00080018'),
            sopClassUid: v('00080016'),
            transferSyntaxUid: parsed.transferSyntaxUid,
          },
          metadata,
          filePath: `blobs/${v('00080018')}.dcm`,
          fileSize: file.length,
          sha256: '0'.repeat(64),
          datasetOffset: parsed.datasetOffset,
          pixelData: undefined,
        });
      }
    },
    search: async (level, query, path = {}, limits = { defaultLimit: 100, maxLimit: 1000 }) => {
      const parsed = parseQidoRequest(level, path, query, limits);
      const result = await store.search(parsed.query);
      const body = qidoResponseBody(parsed.query, result.matches, BASE);
      return {
        results: JSON.parse(body.toString('utf8')),
        more: result.more,
        serverLimited: parsed.serverLimited,
        ignored: [...parsed.ignored, ...(result.ignored ?? [])],
      };
    },
    close: async () => {
      await store.close();
      dir.remove();
    },
  };
}

/** The first value of an attribute of a result, as a string ('' when absent). */
export function value(result: Record<string, { Value?: any[] }>, tag: string): string {
  const v = result[tag]?.Value?.[0];
  if (v === undefined || v === null) return '';
  return typeof v === 'object' ? (v.Alphabetic ?? '') : String(v);
}
