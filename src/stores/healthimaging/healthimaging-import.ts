/**
 * Storing into HealthImaging through S3 and DICOM import jobs: every instance, with `stow:
 * import-job`, or those too large for one STOW request. StartDICOMImportJob is allowed about once
 * a second, so instances arriving within `batchWindowMs` (from any number of STOW requests and
 * forwarding batches) go into one job, up to `maxInstancesPerJob`; each caller waits for the job
 * holding its instances and gets each one's outcome (import-job-runner.ts).
 *
 * Before an instance is imported, the duplicate check runs as for STOW (a re-imported instance
 * replaces the one HealthImaging holds), and the instance's SOP Instance UID stays locked until
 * its job ended, so two uploads of one instance never race.
 */
import { MedicalImagingClient } from '@aws-sdk/client-medical-imaging';
import { S3Client } from '@aws-sdk/client-s3';
import { HealthImagingImportJobConfig, HealthImagingStoreConfig } from '../../config/store-config';
import { BatchItemOutcome, IncomingInstance, StoreOutcome } from '../dicom-store';
import { KeyedLock } from '../local/keyed-lock';
import { asError, isStoreOutage } from '../store-batch';
import { UpstreamStow } from '../dicomweb/upstream-stow';
import { AwsCredentialIdentityProvider } from './aws-credentials';
import { ImportJobRunner } from './import-job-runner';

interface Waiting {
  instance: IncomingInstance;
  settle(outcome: BatchItemOutcome | { outage: unknown }): void;
}

export class HealthImagingImport {
  private readonly runner: ImportJobRunner;
  private readonly imaging: MedicalImagingClient;
  private readonly s3: S3Client;
  private readonly locks = new KeyedLock();
  private waiting: Waiting[] = [];
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    config: HealthImagingStoreConfig,
    private readonly job: HealthImagingImportJobConfig,
    credentials: AwsCredentialIdentityProvider,
    private readonly duplicates: UpstreamStow,
  ) {
    const requestHandler = { connectionTimeout: config.timeouts.connectMs, requestTimeout: config.timeouts.firstByteMs };
    this.imaging = new MedicalImagingClient({ region: config.region, credentials, endpoint: config.endpoints.control, requestHandler, maxAttempts: config.retries.attempts + 2 });
    this.s3 = new S3Client({
      region: config.region,
      credentials,
      requestHandler,
      maxAttempts: config.retries.attempts + 2,
      ...(config.endpoints.s3 ? { endpoint: config.endpoints.s3, forcePathStyle: true } : {}),
    });
    this.runner = new ImportJobRunner({ storeName: config.name, datastoreId: config.datastoreId, timeouts: config.timeouts }, job, this.imaging, this.s3);
  }

  async store(instance: IncomingInstance): Promise<StoreOutcome> {
    const [outcome] = await this.storeBatch([instance]);
    if (!outcome.ok) throw outcome.error;
    return outcome.outcome;
  }

  /** One outcome per instance (DicomStore.storeBatch); an outage of S3 or the control plane
   *  rejects the whole, as a STOW that could not be sent would. */
  async storeBatch(instances: IncomingInstance[]): Promise<BatchItemOutcome[]> {
    const results = await Promise.all(instances.map((instance) => this.locks.run(instance.identity.sopInstanceUid, () => this.storeOne(instance))));
    const outage = results.find((r): r is { outage: unknown } => 'outage' in r);
    if (outage) throw outage.outage;
    return results as BatchItemOutcome[];
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.imaging.destroy();
    this.s3.destroy();
  }

  private async storeOne(instance: IncomingInstance): Promise<BatchItemOutcome | { outage: unknown }> {
    try {
      const held = await this.duplicates.checkHeld(instance);
      if (held) return { ok: true, outcome: held };
    } catch (e) {
      return isStoreOutage(e) ? { outage: e } : { ok: false, error: asError(e) };
    }
    return new Promise((settle) => this.enqueue({ instance, settle }));
  }

  private enqueue(waiting: Waiting): void {
    if (this.closed) return waiting.settle({ ok: false, error: new Error('the store is closing') });
    this.waiting.push(waiting);
    if (this.waiting.length >= this.job.maxInstancesPerJob) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.job.batchWindowMs);
  }

  /** Starts a job for everything waiting; its instances' callers are answered when it ended. */
  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.waiting.splice(0, this.job.maxInstancesPerJob);
    if (this.waiting.length > 0) this.timer = setTimeout(() => this.flush(), this.job.batchWindowMs);
    if (batch.length === 0) return;
    this.runner.run(batch.map((w) => w.instance)).then(
      (outcomes) => batch.forEach((w, k) => w.settle(outcomes[k])),
      (e: unknown) => batch.forEach((w) => w.settle(isStoreOutage(e) ? { outage: e } : { ok: false, error: asError(e) })),
    );
  }
}
