/**
 * Frames and bulk data of an instance on the fake DICOM store. Frames: `multipart/related;
 * type="application/octet-stream"` in ELE by default or as stored with `*`, or `type="image/jpeg"`
 * for frames stored as JPEG baseline (the fake transcodes nothing into JPEG: 406 otherwise); a
 * frame past the last is 404. Bulk data by tag path (`7FE00010`, `00540016/0/00181074`): one
 * octet-stream part with the value's bytes, little endian; encapsulated Pixel Data one part per frame.
 */
import { ServerResponse } from 'node:http';
import { ArchiveNotAcceptable } from '../dicom-archive/archive-errors';
import { instanceBulkData } from '../dicom-archive/bulk-data';
import { DicomArchive } from '../dicom-archive/dicom-archive';
import { bulkDataKey } from '../dicom-archive/dicom-json';
import { writeMultipartRelated } from '../dicom-archive/multipart-related';
import { instanceFrames, parseFrameList } from '../dicom-archive/pixel-frames';
import { FrameWish, acceptsBulkData, frameWishes } from './accept-negotiation';
import { DicomwebRoute } from './dicomweb-routes';
import { firstServable, send } from './retrieve';

export function answerFrames(res: ServerResponse, route: DicomwebRoute, accept: string | undefined, archive: DicomArchive): void {
  const numbers = parseFrameList(route.tail!);
  const instance = archive.instance(route.study!, route.series!, route.instance!);
  const bytes = archive.readBytes(instance);
  const { wish, answer } = firstServable(
    frameWishes(accept),
    (w: FrameWish) => ({ wish: w, answer: instanceFrames(instance, bytes, numbers, w.transferSyntax) }),
    'frames',
  );
  const parts = answer.frames.map((body) => ({ contentType: `${wish.partType}; transfer-syntax=${answer.transferSyntaxUid}`, body }));
  const multipart = writeMultipartRelated(parts, wish.partType);
  send(res, multipart.contentType, multipart.body);
}

/** `00540016/0/00181074` as the archive keys it: hex digits upper case, item indexes as they are. */
function normalizedTagPath(path: string): string {
  return path
    .split('/')
    .map((step) => step.toUpperCase())
    .join('/');
}

export function answerBulkData(res: ServerResponse, route: DicomwebRoute, accept: string | undefined, archive: DicomArchive): void {
  const instance = archive.instance(route.study!, route.series!, route.instance!);
  const answer = instanceBulkData(instance, bulkDataKey(normalizedTagPath(route.tail!)), archive.readBytes(instance));
  if (!acceptsBulkData(accept)) throw new ArchiveNotAcceptable('bulk data is sent as multipart/related; type="application/octet-stream"');
  const parts =
    answer.kind === 'value'
      ? [{ contentType: 'application/octet-stream', body: answer.bytes }]
      : answer.frames.map((body) => ({ contentType: `application/octet-stream; transfer-syntax=${answer.transferSyntaxUid}`, body }));
  const multipart = writeMultipartRelated(parts, 'application/octet-stream');
  send(res, multipart.contentType, multipart.body);
}
