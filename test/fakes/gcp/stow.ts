/**
 * STOW-RS (`POST .../dicomWeb/studies[/{study}]`) on the fake DICOM store: a single
 * `application/dicom` body or `multipart/related; type="application/dicom"`, read to a temp file
 * first (413 past maxStowBytes). Google's duplicate rule (reference 2.3): the same SOP Instance UID
 * with identical bytes succeeds and changes nothing; with other bytes it is refused and the first
 * copy kept - a Failed SOP Sequence item with FailureReason 272 (0x0110 processing failure) and
 * Google's private FailureDetail (0009,0097) LT, creator (0009,0010) "GOOGLE".
 * Status: 200 all stored; 409 none stored and every failure a conflict; 400 none stored otherwise;
 * 202 some stored, some failed (UNCONFIRMED for Google: the PS3.18 meaning is assumed).
 * The answer is DICOM JSON when asked for, else Google's default DICOM XML.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { IncomingMessage, ServerResponse } from 'node:http';
import { DicomArchive, IngestOutcome } from '../dicom-archive/dicom-archive';
import { DicomJsonDataset } from '../dicom-archive/dicom-json';
import { T } from '../dicom-archive/dicom-tags';
import { FAILURE } from '../dicom-archive/instance-parser';
import { parseMediaType } from '../dicom-archive/media-type';
import { readMultipartRelated } from '../dicom-archive/multipart-related';
import { toNativeDicomModel } from './dicom-xml';
import { GcpFakeConfig, instanceUrl, studyUrl } from './gcp-config';
import { googleErrors } from './google-errors';

export const CONFLICT_DETAIL =
  'An instance already exists in this DICOM Store with the same Study/Series/SOPInstance UID, but the DICOM files differ (checksum mismatch).';
const PROCESSING_FAILURE = 0x0110; // 272

export type StowBody = { kind: 'single' } | { kind: 'multipart'; boundary: string };

/** The body form from Content-Type; anything else is refused before the body is read. */
export function stowBodyForm(req: IncomingMessage): StowBody {
  const type = parseMediaType(String(req.headers['content-type'] ?? ''));
  if (type?.mediaType === 'application/dicom') return { kind: 'single' };
  if (type?.mediaType === 'multipart/related' && (type.params.type ?? 'application/dicom').toLowerCase() === 'application/dicom') {
    if (!type.params.boundary) throw googleErrors.invalidArgument('multipart/related Content-Type without a boundary parameter');
    return { kind: 'multipart', boundary: type.params.boundary };
  }
  throw googleErrors.unsupportedMediaType(`Content-Type must be application/dicom or multipart/related; type="application/dicom", not "${req.headers['content-type'] ?? ''}"`);
}

export interface StowContext {
  archive: DicomArchive;
  config: GcpFakeConfig;
  visibilityDelayMs: number;
}

async function ingestParts(bodyPath: string, form: StowBody, study: string | undefined, ctx: StowContext): Promise<IngestOutcome[]> {
  const options = { visibilityDelayMs: ctx.visibilityDelayMs, expectedStudyInstanceUid: study };
  if (form.kind === 'single') return [ctx.archive.ingest(await readFile(bodyPath), options)];
  // The whole body must be well-formed multipart before anything is stored (MultipartSyntaxError -> 400).
  let count = 0;
  for await (const part of readMultipartRelated(createReadStream(bodyPath), form.boundary)) count += part ? 1 : 0;
  if (count === 0) throw googleErrors.invalidArgument('the multipart body holds no part');
  const outcomes: IngestOutcome[] = [];
  for await (const part of readMultipartRelated(createReadStream(bodyPath), form.boundary)) {
    const type = parseMediaType(part.headers['content-type'] ?? 'application/dicom')?.mediaType;
    if (type !== 'application/dicom') outcomes.push({ status: 'failed', failureReason: FAILURE.CannotUnderstand, message: `a part of type ${type} is not application/dicom` });
    else outcomes.push(ctx.archive.ingest(part.body, options));
  }
  return outcomes;
}

function failedItem(outcome: Exclude<IngestOutcome, { status: 'stored' | 'replaced' | 'unchanged' }>): DicomJsonDataset {
  const item: DicomJsonDataset = {};
  const classUid = outcome.status === 'conflict' ? outcome.instance.sopClassUid : outcome.sopClassUid;
  const instanceUid = outcome.status === 'conflict' ? outcome.instance.sopInstanceUid : outcome.sopInstanceUid;
  if (classUid) item[T.ReferencedSOPClassUID] = { vr: 'UI', Value: [classUid] };
  if (instanceUid) item[T.ReferencedSOPInstanceUID] = { vr: 'UI', Value: [instanceUid] };
  if (outcome.status === 'conflict') {
    item[T.FailureReason] = { vr: 'US', Value: [PROCESSING_FAILURE] };
    item['00090010'] = { vr: 'LO', Value: ['GOOGLE'] };
    item['00090097'] = { vr: 'LT', Value: [CONFLICT_DETAIL] };
  } else item[T.FailureReason] = { vr: 'US', Value: [outcome.failureReason] };
  return item;
}

export async function answerStow(res: ServerResponse, bodyPath: string, form: StowBody, study: string | undefined, answerForm: 'json' | 'xml', ctx: StowContext): Promise<void> {
  const outcomes = await ingestParts(bodyPath, form, study, ctx);
  const referenced: DicomJsonDataset[] = [];
  const failed: DicomJsonDataset[] = [];
  const studies = new Set<string>();
  for (const outcome of outcomes) {
    if (outcome.status === 'failed' || outcome.status === 'conflict') {
      failed.push(failedItem(outcome));
      if (outcome.status === 'conflict') studies.add(outcome.instance.studyInstanceUid);
      continue;
    }
    const i = outcome.instance;
    studies.add(i.studyInstanceUid);
    referenced.push({
      [T.ReferencedSOPClassUID]: { vr: 'UI', Value: [i.sopClassUid] },
      [T.ReferencedSOPInstanceUID]: { vr: 'UI', Value: [i.sopInstanceUid] },
      [T.RetrieveURL]: { vr: 'UR', Value: [instanceUrl(ctx.config, i.studyInstanceUid, i.seriesInstanceUid, i.sopInstanceUid)] },
    });
  }
  const answer: DicomJsonDataset = {};
  // The study's RetrieveURL when the request concerned one study (Google's 409 example carries it too).
  const onlyStudy = study ?? (studies.size === 1 ? [...studies][0] : undefined);
  if (onlyStudy) answer[T.RetrieveURL] = { vr: 'UR', Value: [studyUrl(ctx.config, onlyStudy)] };
  if (failed.length > 0) answer[T.FailedSOPSequence] = { vr: 'SQ', Value: failed };
  if (referenced.length > 0) answer[T.ReferencedSOPSequence] = { vr: 'SQ', Value: referenced };
  const conflictsOnly = failed.length > 0 && outcomes.every((o) => o.status === 'conflict');
  const status = failed.length === 0 ? 200 : referenced.length > 0 ? 202 : conflictsOnly ? 409 : 400;
  const body = Buffer.from(answerForm === 'json' ? JSON.stringify(answer) : toNativeDicomModel(answer));
  res.writeHead(status, { 'content-type': answerForm === 'json' ? 'application/dicom+json' : 'application/dicom+xml', 'content-length': body.length });
  res.end(body);
}
