/**
 * Where instance files live under a store root. Paths are built only from UIDs that passed
 * isValidUid (digits and dots), never from raw client text, so they cannot escape the root.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { isValidUid } from '../../dicom/uid';
import { InstanceIdentity } from '../dicom-store';

/** Relative path of an instance file: blobs/<2 hex of the study>/<study>/<series>/<sop>.dcm */
export function instanceRelativePath(id: Pick<InstanceIdentity, 'studyInstanceUid' | 'seriesInstanceUid' | 'sopInstanceUid'>): string {
  for (const uid of [id.studyInstanceUid, id.seriesInstanceUid, id.sopInstanceUid]) {
    if (!isValidUid(uid)) throw new Error(`refusing to build a path from an invalid UID: ${JSON.stringify(uid)}`);
  }
  // A short fan-out level keeps the top directory small with hundreds of thousands of studies.
  const fan = createHash('sha1').update(id.studyInstanceUid).digest('hex').slice(0, 2);
  return join('blobs', fan, id.studyInstanceUid, id.seriesInstanceUid, `${id.sopInstanceUid}.dcm`);
}
