/**
 * Third-party DICOM samples (../shared/dicom-samples beside the repository), written by other
 * projects: the independent half of the test data.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO_ROOT = resolve(__dirname, '../../..');

export function samplesDir(): string {
  const candidates = [process.env.DICOM_SAMPLES_DIR, resolve(REPO_ROOT, '../shared/dicom-samples'), '/work/shared/dicom-samples'];
  for (const c of candidates) if (c && existsSync(c)) return c;
  throw new Error('DICOM samples not found: set DICOM_SAMPLES_DIR or put shared/ beside the repository');
}

export function sampleFiles(): { name: string; path: string }[] {
  const dir = samplesDir();
  return readdirSync(dir)
    .filter((n) => n.endsWith('.dcm'))
    .sort()
    .map((name) => ({ name, path: join(dir, name) }));
}
