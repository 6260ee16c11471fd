/**
 * WADO-RS retrieves through an upstream: instances, frames and bulk data are relayed as the
 * upstream streams them (RelayedAnswer), never held whole; the upstream converts to what the
 * client accepts (upstream-accept.ts). Its answers are mapped to the standard's: 404 when the
 * resource does not exist, 406 when it cannot be produced as asked. Where an upstream answers a
 * client mistake with something else (Orthanc: 400 for a frame past the last, 500 for the frames
 * of an instance without pixels), the instance's metadata is read to give the right answer.
 */
import { DicomJsonObject } from '../../dicom/dicom-json';
import { NotFound, UpstreamError, UpstreamFailure, UpstreamNotAcceptable } from '../store-errors';
import { InstanceRef, RelayedAnswer, RetrieveScope, TransferSyntaxChoice } from '../wado-types';
import { upstreamAccept } from './upstream-accept';
import { UpstreamClient, UpstreamResponse } from './upstream-client';
import { relayAnswer } from './upstream-relay';
import { errorDetail } from './upstream-failures';
import { describeScope, scopePath, UpstreamMetadata } from './upstream-metadata';

const DICOM = 'application/dicom';
const OCTET_STREAM = 'application/octet-stream';
const PIXEL_DATA_TAGS = ['7FE00010', '7FE00008', '7FE00009'];

/** How an upstream is asked for each kind of resource, and how its frame answers are labelled. */
export interface WadoDialect {
  instanceAccept(want: TransferSyntaxChoice): string;
  framesAccept(want: TransferSyntaxChoice): string;
  bulkAccept(want: TransferSyntaxChoice): string;
  framesRelabel?(want: TransferSyntaxChoice): RelayedAnswer['relabel'];
}

/** What a standard DICOMweb server understands (upstream-accept.ts). */
export const STANDARD_DIALECT: WadoDialect = {
  instanceAccept: (want) => upstreamAccept(want, DICOM),
  framesAccept: (want) => upstreamAccept(want, OCTET_STREAM),
  bulkAccept: (want) => upstreamAccept(want, OCTET_STREAM),
};

export class UpstreamRetrieve {
  constructor(
    private readonly client: UpstreamClient,
    private readonly metadata: UpstreamMetadata,
    private readonly dialect: WadoDialect = STANDARD_DIALECT,
  ) {}

  async retrieve(scope: RetrieveScope, want: TransferSyntaxChoice): Promise<RelayedAnswer> {
    const what = `retrieve of ${scope.level}`;
    const response = await this.get(scopePath(scope), this.dialect.instanceAccept(want), what);
    if (response.status === 200) return await this.relay(response, what);
    const body = await this.client.text(response, what);
    if (response.status === 404) throw new NotFound(`${describeScope(scope)} is not stored here`);
    throw this.refusal(response.status, body, describeScope(scope), what);
  }

  async frames(ref: InstanceRef, want: TransferSyntaxChoice, numbers: number[]): Promise<RelayedAnswer> {
    const what = 'retrieve of frames';
    const scope: RetrieveScope = { level: 'instance', ...ref };
    let response: UpstreamResponse;
    try {
      response = await this.get(`${scopePath(scope)}/frames/${numbers.join(',')}`, this.dialect.framesAccept(want), what);
    } catch (e) {
      // An upstream error (not an outage) may be a client mistake the upstream reports badly.
      if (e instanceof UpstreamError) await this.explainFrames(ref, numbers);
      throw e;
    }
    if (response.status === 200) return { ...(await this.relay(response, what)), relabel: this.dialect.framesRelabel?.(want) };
    const body = await this.client.text(response, what);
    if (response.status !== 406) await this.explainFrames(ref, numbers);
    if (response.status === 404) throw new NotFound(`Instance ${ref.sopInstanceUid} or its frames ${numbers.join(',')} are not stored here`);
    throw this.refusal(response.status, body, `The frames of instance ${ref.sopInstanceUid}`, what);
  }

  async bulkdata(ref: InstanceRef, tagPath: string, want: TransferSyntaxChoice): Promise<RelayedAnswer> {
    const what = 'retrieve of bulk data';
    const uri = await this.metadata.bulkUri(ref, tagPath);
    if (!uri) {
      // An upstream that lists no BulkDataURI for Pixel Data still serves its frames.
      if (tagPath === '7FE00010') return this.frames(ref, want, await this.allFrames(ref));
      throw new NotFound(`Instance ${ref.sopInstanceUid} has no bulk data at ${tagPath}`);
    }
    const response = await this.get(this.pathOf(uri), this.dialect.bulkAccept(want), what);
    if (response.status === 200) return await this.relay(response, what);
    const body = await this.client.text(response, what);
    if (response.status === 404) throw new NotFound(`Instance ${ref.sopInstanceUid} has no bulk data at ${tagPath}`);
    throw this.refusal(response.status, body, `Bulk data ${tagPath} of instance ${ref.sopInstanceUid}`, what);
  }

  private get(path: string, accept: string, what: string): Promise<UpstreamResponse> {
    return this.client.send({ method: 'GET', path, headers: { accept }, what });
  }

  /**
   * An upstream BulkDataURI -> a path below the configured DICOMweb root. Only the part from
   * "/studies/" on is used: the host an upstream writes into its URIs (Orthanc's "Host" setting)
   * is often not the one the gateway reaches it by, and the gateway never calls another host.
   */
  private pathOf(uri: string): string {
    let url: URL;
    try {
      url = new URL(uri, `${this.client.origin}${this.client.rootPath}/`);
    } catch {
      throw new UpstreamError(`the upstream's BulkDataURI ${JSON.stringify(uri.slice(0, 100))} is not a URI`);
    }
    const at = url.pathname.indexOf('/studies/');
    if (at < 0) throw new UpstreamError(`the upstream's BulkDataURI ${JSON.stringify(uri.slice(0, 100))} is not below its DICOMweb root`);
    return url.pathname.slice(at) + url.search;
  }

  /** 406, or 400 (Orthanc: "cannot generate the following content type"): not producible as asked. */
  private refusal(status: number, body: string, subject: string, what: string): Error {
    const detail = errorDetail(body);
    if (status === 406 || status === 400 || status === 415) {
      return new UpstreamNotAcceptable(`${subject} cannot be answered as asked by the upstream${detail ? ` (${detail})` : ''}`);
    }
    return this.client.unexpected(status, body, what);
  }

  /** 1..Number of Frames of an instance with Pixel Data (NotFound without). */
  private async allFrames(ref: InstanceRef): Promise<number[]> {
    const object = await this.metadata.instanceObject(ref);
    if (!object) throw new NotFound(`Instance ${ref.sopInstanceUid} is not stored here`);
    if (!hasPixels(object)) throw new NotFound(`Instance ${ref.sopInstanceUid} has no bulk data at 7FE00010`);
    const count = Number(object['00280008']?.Value?.[0] ?? 1) || 1;
    return Array.from({ length: count }, (_, i) => i + 1);
  }

  /** Throws NotFound when the instance has no pixels, or fewer frames than asked. */
  private async explainFrames(ref: InstanceRef, numbers: number[]): Promise<void> {
    let object: DicomJsonObject | undefined;
    try {
      object = await this.metadata.instanceObject(ref);
    } catch (e) {
      if (e instanceof UpstreamFailure) return; // the original failure says more
      throw e;
    }
    if (!object) throw new NotFound(`Instance ${ref.sopInstanceUid} is not stored here`);
    if (!hasPixels(object)) throw new NotFound(`Instance ${ref.sopInstanceUid} has no Pixel Data, so no frames`);
    const count = Number(object['00280008']?.Value?.[0] ?? 1) || 1;
    const outside = numbers.find((n) => n > count);
    if (outside !== undefined) {
      throw new NotFound(`Frame ${outside} does not exist: instance ${ref.sopInstanceUid} has ${count} frame${count === 1 ? '' : 's'}`);
    }
  }

  private relay(response: UpstreamResponse, what: string): Promise<RelayedAnswer> {
    return relayAnswer(this.client, response, what);
  }
}

/** Pixel Data in the metadata, or (for upstreams that leave it out of metadata) Rows. */
function hasPixels(object: DicomJsonObject): boolean {
  return PIXEL_DATA_TAGS.some((t) => t in object) || '00280010' in object;
}
