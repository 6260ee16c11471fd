/**
 * WADO-RS retrieve of whole resources on the fake DICOM store: study, series and instance as
 * `multipart/related; type="application/dicom"` (one Part-10 part per instance), an instance also
 * as single-part `application/dicom` (Google's extension), each in the transfer syntax asked for
 * (default Explicit VR Little Endian; `*` or the stored UID as stored; Implicit VR, Deflated and
 * RLE re-written as ELE by the archive; anything else 406), and the metadata of each as a DICOM
 * JSON array whose BulkDataURIs are `{dicomWebRoot}/studies/.../instances/{sop}/bulkdata/{tag path}`.
 */
import { ServerResponse } from 'node:http';
import { ArchiveNotAcceptable } from '../dicom-archive/archive-errors';
import { inMetadataOrder, metadataOf } from '../dicom-archive/archive-metadata';
import { DicomArchive, StoredInstance } from '../dicom-archive/dicom-archive';
import { retrieveInstance } from '../dicom-archive/instance-retrieve';
import { writeMultipartRelated } from '../dicom-archive/multipart-related';
import { RetrieveWish, retrieveWishes } from './accept-negotiation';
import { DicomwebRoute } from './dicomweb-routes';
import { GcpFakeConfig, instanceUrl } from './gcp-config';

export function send(res: ServerResponse, contentType: string, body: Buffer): void {
  res.writeHead(200, { 'content-type': contentType, 'content-length': body.length });
  res.end(body);
}

/** The BulkDataURI of a bulk value: the instance's URL, `/bulkdata/`, and the value's tag path. */
export function bulkDataUri(config: GcpFakeConfig, instance: StoredInstance, key: string): string {
  const path = instance.bulk.get(key)?.path ?? key;
  return `${instanceUrl(config, instance.studyInstanceUid, instance.seriesInstanceUid, instance.sopInstanceUid)}/bulkdata/${path}`;
}

/** The instances a retrieve or metadata route names (404 when none is visible). */
export function instancesOf(route: DicomwebRoute, archive: DicomArchive): StoredInstance[] {
  if (route.instance) return [archive.instance(route.study!, route.series!, route.instance)];
  if (route.series) return archive.series(route.study!, route.series);
  return archive.study(route.study!);
}

/** The first wish every instance can be served in; NotAcceptable naming the last refusal otherwise. */
export function firstServable<W, R>(wishes: W[], attempt: (wish: W) => R, what: string): R {
  let refusal = `no media range of the Accept header is one the DICOM store serves for ${what}`;
  for (const wish of wishes) {
    try {
      return attempt(wish);
    } catch (error) {
      if (!(error instanceof ArchiveNotAcceptable)) throw error;
      refusal = error.message;
    }
  }
  throw new ArchiveNotAcceptable(refusal);
}

export function answerRetrieve(res: ServerResponse, route: DicomwebRoute, accept: string | undefined, archive: DicomArchive): void {
  const instances = inMetadataOrder(instancesOf(route, archive));
  const wishes = retrieveWishes(accept, route.instance !== undefined);
  const served = firstServable(
    wishes,
    (wish: RetrieveWish) => ({
      wish,
      answers: instances.map((i) => {
        const answer = retrieveInstance(i, wish.transferSyntax, () => archive.readBytes(i));
        return { transferSyntaxUid: answer.transferSyntaxUid, bytes: 'bytes' in answer ? answer.bytes : archive.readBytes(i) };
      }),
    }),
    route.instance ? 'an instance' : route.series ? 'a series' : 'a study',
  );
  if (served.wish.form === 'single') {
    const [one] = served.answers;
    return send(res, `application/dicom; transfer-syntax=${one.transferSyntaxUid}`, one.bytes);
  }
  const parts = served.answers.map((a) => ({ contentType: `application/dicom; transfer-syntax=${a.transferSyntaxUid}`, body: a.bytes }));
  const multipart = writeMultipartRelated(parts, 'application/dicom');
  send(res, multipart.contentType, multipart.body);
}

export function answerMetadata(res: ServerResponse, route: DicomwebRoute, archive: DicomArchive, config: GcpFakeConfig): void {
  const metadata = metadataOf(instancesOf(route, archive), (i, key) => bulkDataUri(config, i, key));
  send(res, 'application/dicom+json', Buffer.from(JSON.stringify(metadata)));
}
