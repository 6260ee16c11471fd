/**
 * What the three hosts of the HealthImaging fake share: the settled options, the one datastore
 * (its archive of instances), the identities, and the endpoints once the servers listen.
 */
import { DicomArchive } from '../dicom-archive/dicom-archive';
import { ACCOUNT_ID, AwsIdentity } from './aws-identity';

export interface FakeConfig {
  region: string;
  datastoreId: string;
  datastoreName: string;
  createdAt: number;
  bucket: string;
  dataAccessRoleArn: string;
  stowEnabled: boolean;
  maxStowBytes: number;
  qidoMaxLimit: number;
  qidoMaxOffset: number;
  qidoMaxIncludeFields: number;
  importJobDurationMs: number;
  clockSkewMs: number;
  /** Temp files of request bodies. */
  scratchDir: string;
  /** Objects of the fake S3 bucket. */
  objectsDir: string;
}

export interface FakeState {
  config: FakeConfig;
  archive: DicomArchive;
  identities: AwsIdentity[];
  visibilityDelayMs: number;
  /** Set once the DICOMweb server listens: absolute BulkDataURIs and RetrieveURLs are built on it. */
  dicomwebEndpoint: string;
}

export function datastoreArn(config: FakeConfig, datastoreId = config.datastoreId): string {
  return `arn:aws:medical-imaging:${config.region}:${ACCOUNT_ID}:datastore/${datastoreId}`;
}

/** The base of the datastore's DICOMweb resources, as the real service's https host would write it. */
export function dicomwebBase(state: FakeState): string {
  return `${state.dicomwebEndpoint}/datastore/${state.config.datastoreId}`;
}

export function instanceUrl(state: FakeState, study: string, series: string, sop: string): string {
  return `${dicomwebBase(state)}/studies/${study}/series/${series}/instances/${sop}`;
}
