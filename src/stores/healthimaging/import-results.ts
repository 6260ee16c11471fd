/**
 * Reading what a HealthImaging DICOM import job says of each file it was given. AWS writes its
 * results under the job's output prefix: `job-output-manifest.json` (a `jobSummary`), a SUCCESS
 * folder with `success.ndjson` and a FAILURE folder with `failure.ndjson`, one JSON line per input
 * file (developer guide, "Understanding import jobs"). The exact field names of those lines are not
 * all documented: the input file is looked for under the names AWS's examples use, and a line
 * that names no file the gateway sent is ignored, so a file neither listed as imported nor as
 * failed is reported as not confirmed, never as stored.
 */
export interface FileOutcome {
  ok: boolean;
  /** Why it failed, as the job said it (exception type and message). */
  reason?: string;
}

/** The files of the output folder, by what they are. */
export interface ResultFiles {
  manifest?: string;
  success: string[];
  failure: string[];
}

/** Sorts the keys under the job's output prefix into the manifest and the result files. */
export function resultFiles(keys: string[]): ResultFiles {
  const files: ResultFiles = { success: [], failure: [] };
  for (const key of keys) {
    if (/(^|\/)job-output-manifest\.json$/.test(key)) files.manifest = key;
    else if (/(^|\/)SUCCESS\/[^/]*\.ndjson$/.test(key)) files.success.push(key);
    else if (/(^|\/)FAILURE\/[^/]*\.ndjson$/.test(key)) files.failure.push(key);
  }
  return files;
}

/** The numbers of the manifest's jobSummary, for the log; undefined when it is not one. */
export function manifestSummary(text: string): { scanned?: number; imported?: number; failed?: number } | undefined {
  try {
    const summary = (JSON.parse(text) as { jobSummary?: Record<string, unknown> }).jobSummary;
    if (!summary || typeof summary !== 'object') return undefined;
    const n = (key: string) => (typeof summary[key] === 'number' ? (summary[key] as number) : undefined);
    const failed = (n('numberOfFilesWithCustomerError') ?? 0) + (n('numberOfFilesWithServerError') ?? 0);
    return { scanned: n('numberOfScannedFiles'), imported: n('numberOfImportedFiles'), failed };
  } catch {
    return undefined;
  }
}

/** The input file (an s3:// URI or key) one result line is about. */
function inputOf(line: Record<string, unknown>): string | undefined {
  for (const key of ['inputFile', 'inputS3Uri', 'inputFileS3Uri', 'input', 'file', 'fileName', 's3Uri']) {
    const value = line[key];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

function failureReason(line: Record<string, unknown>): string {
  const exception = line.exception as Record<string, unknown> | undefined;
  const parts = [exception?.exceptionType, exception?.message, line.errorCode, line.message, line.error].filter((v) => typeof v === 'string' && v !== '');
  return parts.length > 0 ? parts.join(': ').slice(0, 300) : 'the import job failed this file without a reason';
}

/** Adds the outcomes of one ndjson file to `outcomes`, keyed by the input's object key. */
export function readResultLines(text: string, ok: boolean, keyOf: (input: string) => string | undefined, outcomes: Map<string, FileOutcome>): void {
  for (const raw of text.split('\n')) {
    const trimmed = raw.trim();
    if (!trimmed) continue;
    let line: unknown;
    try {
      line = JSON.parse(trimmed);
    } catch {
      continue;
    }
    if (typeof line !== 'object' || line === null) continue;
    const input = inputOf(line as Record<string, unknown>);
    const key = input ? keyOf(input) : undefined;
    if (!key) continue;
    // A failure wins over a success line for the same file.
    if (ok && outcomes.get(key)?.ok === false) continue;
    outcomes.set(key, ok ? { ok: true } : { ok: false, reason: failureReason(line as Record<string, unknown>) });
  }
}
