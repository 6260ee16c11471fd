/**
 * The DICOMweb server of the fake (https://healthcare.googleapis.com): each request is routed to
 * one of the DICOM store's methods (anything else is 404), authenticated by its bearer token,
 * authorized against the account's IAM role, and answered; errors go out in Google's JSON shape.
 */
import { rm } from 'node:fs/promises';
import { IncomingMessage } from 'node:http';
import { DicomArchive } from '../dicom-archive/dicom-archive';
import { acceptsDicomJson, stowAnswerForm } from './accept-negotiation';
import { AccessTokens } from './access-tokens';
import { authenticate, authorize } from './dicomweb-auth';
import { isStow, routeDicomweb, storeOf } from './dicomweb-routes';
import { FakeProtocol } from './fake-http-server';
import { answerBulkData, answerFrames } from './frames-bulkdata';
import { GcpFakeConfig } from './gcp-config';
import { asGoogleError, faultError, googleErrors, sendGoogleError } from './google-errors';
import { answerRendered } from './rendered';
import { BodyTooLarge, drain, receiveToFile, receiveToMemory } from './request-body';
import { answerMetadata, answerRetrieve } from './retrieve';
import { answerSearch } from './search';
import { ServiceAccounts } from './service-accounts';
import { answerStow, stowBodyForm } from './stow';

/** Bodies of requests other than STOW are not expected; a little is read and ignored. */
const MAX_OTHER_BODY = 1_048_576;
/** An error answer reads what is left of a body up to this, to keep the connection; beyond, it closes it. */
const MAX_DRAIN = 64 * 1_048_576;

export interface DicomwebState {
  config: GcpFakeConfig;
  archive: DicomArchive;
  accounts: ServiceAccounts;
  tokens: AccessTokens;
  visibilityDelayMs: number;
}

function splitUrl(req: IncomingMessage): { path: string; rawQuery: string } {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? { path: url, rawQuery: '' } : { path: url.slice(0, q), rawQuery: url.slice(q + 1) };
}

export function dicomwebProtocol(state: DicomwebState): FakeProtocol {
  const { config, archive } = state;
  return {
    kind: 'dicomweb',
    classify: (req) => routeDicomweb(req.method ?? 'GET', splitUrl(req).path)?.operation ?? 'Unknown',
    async handle(req, res, ctx) {
      const { path, rawQuery } = splitUrl(req);
      const route = routeDicomweb(req.method ?? 'GET', path);
      if (!route) {
        const what = storeOf(path) ? 'is not a method of a DICOM store (thumbnails, WADO-URI and capabilities are not supported)' : 'was not found';
        throw googleErrors.notFound(`${req.method} ${path} ${what}`);
      }
      const token = authenticate(req, state.tokens, state.accounts);
      authorize(token, route, state.accounts, config);
      const accept = req.headers.accept;
      if (isStow(route.operation)) {
        const form = stowBodyForm(req);
        const answerForm = stowAnswerForm(accept);
        if (!answerForm) throw googleErrors.notAcceptable(`STOW answers are application/dicom+json or application/dicom+xml, not ${accept}`);
        const bodyPath = await receiveToFile(req, config.scratchDir, config.maxStowBytes, ctx.addWireBytes);
        try {
          return await answerStow(res, bodyPath, form, route.study, answerForm, { archive, config, visibilityDelayMs: state.visibilityDelayMs });
        } finally {
          await rm(bodyPath, { force: true });
        }
      }
      await receiveToMemory(req, MAX_OTHER_BODY, ctx.addWireBytes);
      switch (route.operation) {
        case 'dicomStores.studies.retrieveStudy':
        case 'dicomStores.studies.series.retrieveSeries':
        case 'dicomStores.studies.series.instances.retrieveInstance':
          return answerRetrieve(res, route, accept, archive);
        case 'dicomStores.studies.series.instances.frames.retrieveFrames':
          return answerFrames(res, route, accept, archive);
        case 'dicomStores.studies.series.instances.bulkdata.retrieveBulkdata':
          return answerBulkData(res, route, accept, archive);
        case 'dicomStores.studies.series.instances.retrieveRendered':
        case 'dicomStores.studies.series.instances.frames.retrieveRendered':
          return answerRendered(res, route, accept, rawQuery, archive);
      }
      if (!acceptsDicomJson(accept)) throw googleErrors.notAcceptable(`${route.operation} answers application/dicom+json, not ${accept}`);
      if (route.operation.endsWith('retrieveMetadata')) return answerMetadata(res, route, archive, config);
      return answerSearch(res, route, rawQuery, archive.visibleInstances(), config);
    },
    async writeError(req, res, error, ctx) {
      const reusable = !(error instanceof BodyTooLarge) && (await drain(req, MAX_DRAIN, ctx.addWireBytes));
      sendGoogleError(res, asGoogleError(error), !reusable);
    },
    faultError: (fault, operation) => faultError(fault, config.project, operation === 'dicomStores.storeInstances' || operation === 'dicomStores.studies.storeInstances'),
  };
}
