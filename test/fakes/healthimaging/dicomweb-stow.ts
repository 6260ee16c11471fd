/**
 * StoreDICOM / StoreDICOMStudy (STOW-RS, PS3.18 10.5) on the fake: a single `application/dicom`
 * Part-10 body, as AWS's own example sends, or `multipart/related; type="application/dicom"`.
 * The body has already been read to a temp file and its signature checked. The answer is the
 * STOW-RS DICOM JSON: Referenced SOP Sequence (with absolute RetrieveURLs) and Failed SOP Sequence
 * with FailureReason; 200 all stored, 202 some, 400 none (409 when every failure is a conflict).
 * An instance already held is listed as stored: same bytes change nothing, other bytes replace it
 * (HealthImaging: "the latest version will overwrite any older version").
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { IncomingMessage, ServerResponse } from 'node:http';
import { IngestOutcome } from '../dicom-archive/dicom-archive';
import { DicomJsonDataset } from '../dicom-archive/dicom-json';
import { T } from '../dicom-archive/dicom-tags';
import { FAILURE } from '../dicom-archive/instance-parser';
import { parseMediaType } from '../dicom-archive/media-type';
import { MultipartSyntaxError, readMultipartRelated } from '../dicom-archive/multipart-related';
import { AwsError, awsErrors } from './aws-errors';
import { DicomwebRoute } from './dicomweb-routes';
import { FakeState, instanceUrl } from './fake-state';

export type StowBody = { kind: 'single' } | { kind: 'multipart'; boundary: string };

/** The body form from Content-Type; anything else is refused before the body is read. */
export function stowBodyForm(req: IncomingMessage): StowBody {
  const type = parseMediaType(String(req.headers['content-type'] ?? ''));
  if (type?.mediaType === 'application/dicom') return { kind: 'single' };
  if (type?.mediaType === 'multipart/related' && (type.params.type ?? '').toLowerCase() === 'application/dicom') {
    if (!type.params.boundary) throw awsErrors.validation('multipart/related Content-Type without a boundary parameter');
    return { kind: 'multipart', boundary: type.params.boundary };
  }
  throw new AwsError(415, 'UnsupportedMediaTypeException', `Content-Type must be application/dicom or multipart/related; type="application/dicom", not "${req.headers['content-type'] ?? ''}"`);
}

async function ingestParts(path: string, form: StowBody, route: DicomwebRoute, state: FakeState): Promise<IngestOutcome[]> {
  const options = { visibilityDelayMs: state.visibilityDelayMs, expectedStudyInstanceUid: route.study };
  // dcmjs parses whole files: each instance is held in memory once, the request body never is.
  if (form.kind === 'single') return [state.archive.ingest(await readFile(path), options)];
  // First pass: the whole body must be well-formed multipart before anything is stored.
  try {
    let count = 0;
    for await (const part of readMultipartRelated(createReadStream(path), form.boundary)) count += part ? 1 : 0;
    if (count === 0) throw awsErrors.validation('the multipart body holds no part');
  } catch (error) {
    if (error instanceof MultipartSyntaxError) throw awsErrors.validation(`malformed multipart/related body: ${error.message}`);
    throw error;
  }
  const outcomes: IngestOutcome[] = [];
  for await (const part of readMultipartRelated(createReadStream(path), form.boundary)) {
    const type = parseMediaType(part.headers['content-type'] ?? 'application/dicom')?.mediaType;
    if (type !== 'application/dicom') {
      outcomes.push({ status: 'failed', failureReason: FAILURE.CannotUnderstand, message: `a part of type ${type} is not application/dicom` });
      continue;
    }
    outcomes.push(state.archive.ingest(part.body, options));
  }
  return outcomes;
}

export async function answerStow(res: ServerResponse, route: DicomwebRoute, state: FakeState, bodyPath: string, form: StowBody): Promise<void> {
  const outcomes = await ingestParts(bodyPath, form, route, state);
  const referenced: DicomJsonDataset[] = [];
  const failed: DicomJsonDataset[] = [];
  for (const outcome of outcomes) {
    if (outcome.status === 'stored' || outcome.status === 'replaced' || outcome.status === 'unchanged') {
      const i = outcome.instance;
      referenced.push({
        [T.ReferencedSOPClassUID]: { vr: 'UI', Value: [i.sopClassUid] },
        [T.ReferencedSOPInstanceUID]: { vr: 'UI', Value: [i.sopInstanceUid] },
        [T.RetrieveURL]: { vr: 'UR', Value: [instanceUrl(state, i.studyInstanceUid, i.seriesInstanceUid, i.sopInstanceUid)] },
      });
      continue;
    }
    const item: DicomJsonDataset = {};
    const classUid = outcome.status === 'conflict' ? outcome.instance.sopClassUid : outcome.status === 'failed' ? outcome.sopClassUid : undefined;
    const instanceUid = outcome.status === 'conflict' ? outcome.instance.sopInstanceUid : outcome.status === 'failed' ? outcome.sopInstanceUid : undefined;
    if (classUid) item[T.ReferencedSOPClassUID] = { vr: 'UI', Value: [classUid] };
    if (instanceUid) item[T.ReferencedSOPInstanceUID] = { vr: 'UI', Value: [instanceUid] };
    // A conflict only happens under the 'conflict' duplicate policy (not AWS's): 0x0111 Duplicate SOP Instance (PS3.7 C.4.2).
    item[T.FailureReason] = { vr: 'US', Value: [outcome.status === 'failed' ? outcome.failureReason : 0x0111] };
    failed.push(item);
  }
  const answer: DicomJsonDataset = {};
  if (failed.length > 0) answer[T.FailedSOPSequence] = { vr: 'SQ', Value: failed };
  if (referenced.length > 0) answer[T.ReferencedSOPSequence] = { vr: 'SQ', Value: referenced };
  const conflictsOnly = failed.length > 0 && outcomes.every((o) => o.status === 'conflict');
  const status = failed.length === 0 ? 200 : referenced.length > 0 ? 202 : conflictsOnly ? 409 : 400;
  const body = Buffer.from(JSON.stringify(answer));
  res.writeHead(status, { 'content-type': 'application/dicom+json', 'content-length': body.length });
  res.end(body);
}
