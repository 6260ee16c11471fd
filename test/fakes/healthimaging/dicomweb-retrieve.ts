/**
 * HealthImaging's WADO-RS operations on the fake: GetDICOMInstance (one Part-10 body, not
 * multipart), GetDICOMInstanceMetadata and GetDICOMSeriesMetadata (DICOM JSON with absolute
 * BulkDataURIs), GetDICOMInstanceFrames (multipart/related of application/octet-stream parts) and
 * GetDICOMBulkdata (application/octet-stream; encapsulated Pixel Data as one part per frame).
 * Archive errors (not found, not acceptable, bad frame list) are thrown for the host to map.
 */
import { createReadStream } from 'node:fs';
import { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { ArchiveNotAcceptable } from '../dicom-archive/archive-errors';
import { metadataOf } from '../dicom-archive/archive-metadata';
import { instanceBulkData } from '../dicom-archive/bulk-data';
import { StoredInstance } from '../dicom-archive/dicom-archive';
import { retrieveInstance } from '../dicom-archive/instance-retrieve';
import { writeMultipartRelated } from '../dicom-archive/multipart-related';
import { instanceFrames, parseFrameList } from '../dicom-archive/pixel-frames';
import { bulkDataForms, frameWishes, instanceWishes } from './accept-negotiation';
import { DicomwebRoute } from './dicomweb-routes';
import { FakeState, instanceUrl } from './fake-state';

function send(res: ServerResponse, contentType: string, body: Buffer): void {
  res.writeHead(200, { 'content-type': contentType, 'content-length': body.length });
  res.end(body);
}

function located(route: DicomwebRoute, state: FakeState): StoredInstance {
  return state.archive.instance(route.study!, route.series!, route.instance!);
}

/** The first wish that can be served; NotAcceptable naming the last refusal otherwise. */
function firstServable<R>(wishes: string[], attempt: (wish: string) => R, what: string): R {
  let refusal = `no Accept media range of ${what} that HealthImaging serves`;
  for (const wish of wishes) {
    try {
      return attempt(wish);
    } catch (error) {
      if (!(error instanceof ArchiveNotAcceptable)) throw error;
      refusal = error.message;
    }
  }
  throw new ArchiveNotAcceptable(`${refusal}; retry with transfer-syntax=*`);
}

export async function answerInstance(res: ServerResponse, route: DicomwebRoute, accept: string | undefined, state: FakeState): Promise<void> {
  const instance = located(route, state);
  const answer = firstServable(instanceWishes(accept), (wish) => retrieveInstance(instance, wish, () => state.archive.readBytes(instance)), 'an instance');
  const contentType = `application/dicom; transfer-syntax=${answer.transferSyntaxUid}`;
  if ('bytes' in answer) return send(res, contentType, answer.bytes);
  res.writeHead(200, { 'content-type': contentType, 'content-length': instance.size });
  await pipeline(createReadStream(answer.filePath), res);
}

export function answerMetadata(res: ServerResponse, route: DicomwebRoute, state: FakeState): void {
  const instances = route.instance ? [located(route, state)] : state.archive.series(route.study!, route.series!);
  const metadata = metadataOf(instances, (i, key) => `${instanceUrl(state, i.studyInstanceUid, i.seriesInstanceUid, i.sopInstanceUid)}/bulkdata/${key}`);
  send(res, 'application/dicom+json', Buffer.from(JSON.stringify(metadata)));
}

export function answerFrames(res: ServerResponse, route: DicomwebRoute, accept: string | undefined, state: FakeState): void {
  const numbers = parseFrameList(route.tail!);
  const instance = located(route, state);
  const bytes = state.archive.readBytes(instance);
  const answer = firstServable(frameWishes(accept), (wish) => instanceFrames(instance, bytes, numbers, wish), 'frames');
  const parts = answer.frames.map((body) => ({ contentType: `application/octet-stream; transfer-syntax=${answer.transferSyntaxUid}`, body }));
  const multipart = writeMultipartRelated(parts, 'application/octet-stream');
  send(res, multipart.contentType, multipart.body);
}

export function answerBulkData(res: ServerResponse, route: DicomwebRoute, accept: string | undefined, state: FakeState): void {
  const instance = located(route, state);
  const answer = instanceBulkData(instance, route.tail!, state.archive.readBytes(instance));
  const forms = bulkDataForms(accept);
  if (answer.kind === 'value' && forms.octetStream) return send(res, 'application/octet-stream', answer.bytes);
  if (!forms.multipart) throw new ArchiveNotAcceptable('this bulk data is sent as multipart/related; type="application/octet-stream"');
  const parts =
    answer.kind === 'value'
      ? [{ contentType: 'application/octet-stream', body: answer.bytes }]
      : answer.frames.map((body) => ({ contentType: `application/octet-stream; transfer-syntax=${answer.transferSyntaxUid}`, body }));
  const multipart = writeMultipartRelated(parts, 'application/octet-stream');
  send(res, multipart.contentType, multipart.body);
}
