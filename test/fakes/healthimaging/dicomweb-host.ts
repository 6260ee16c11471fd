/**
 * The DICOMweb host of the fake (dicom-medical-imaging.{region}.amazonaws.com): every request is
 * SigV4-verified with service `medical-imaging` (although the host name says otherwise), routed to
 * one of HealthImaging's DICOMweb operations, authorized, and answered; errors go out in AWS's
 * rest-json shape. Unknown routes are 404 UnknownOperationException (AWS's real answer for them is
 * not documented: an assumption).
 */
import { rm } from 'node:fs/promises';
import { IncomingMessage, ServerResponse } from 'node:http';
import { acceptsDicomJson } from './accept-negotiation';
import { accessDenied } from './auth-answers';
import { awsErrors, sendJsonError } from './aws-errors';
import { answerBulkData, answerFrames, answerInstance, answerMetadata } from './dicomweb-retrieve';
import { DicomwebRoute, IAM_ACTION, routeDicomweb } from './dicomweb-routes';
import { answerSearch } from './dicomweb-search';
import { answerStow, stowBodyForm } from './dicomweb-stow';
import { FakeState, datastoreArn } from './fake-state';
import { HostProtocol, RequestContext } from './host-server';
import { restJsonError, restJsonFault } from './rest-json-errors';
import { receiveSignedBody } from './signed-body';
import { SigV4Verifier, VerifiedRequest } from './sigv4-verifier';

/** Bodies of requests other than STOW are small; more is refused like an oversized STOW. */
const MAX_OTHER_BODY = 1_048_576;

function splitUrl(req: IncomingMessage): { path: string; rawQuery: string } {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? { path: url, rawQuery: '' } : { path: url.slice(0, q), rawQuery: url.slice(q + 1) };
}

export function dicomwebProtocol(state: FakeState, verifier: SigV4Verifier): HostProtocol {
  async function dispatch(req: IncomingMessage, res: ServerResponse, route: DicomwebRoute, auth: VerifiedRequest, ctx: RequestContext, rawQuery: string): Promise<void> {
    const accept = req.headers.accept;
    if (route.operation === 'StoreDICOM' || route.operation === 'StoreDICOMStudy') {
      const form = stowBodyForm(req);
      if (!acceptsDicomJson(accept)) throw awsErrors.notAcceptable('STOW answers are application/dicom+json');
      const body = await receiveSignedBody(req, auth, { maxBytes: state.config.maxStowBytes, tempDir: state.config.scratchDir, onWireBytes: ctx.addWireBytes });
      try {
        return await answerStow(res, route, state, body.path!, form);
      } finally {
        await rm(body.path!, { force: true });
      }
    }
    await receiveSignedBody(req, auth, { maxBytes: MAX_OTHER_BODY, onWireBytes: ctx.addWireBytes });
    switch (route.operation) {
      case 'GetDICOMInstance':
        return answerInstance(res, route, accept, state);
      case 'GetDICOMInstanceFrames':
        return answerFrames(res, route, accept, state);
      case 'GetDICOMBulkdata':
        return answerBulkData(res, route, accept, state);
    }
    if (!acceptsDicomJson(accept)) throw awsErrors.notAcceptable(`${route.operation} answers application/dicom+json, not ${accept}`);
    if (route.operation === 'GetDICOMInstanceMetadata' || route.operation === 'GetDICOMSeriesMetadata') return answerMetadata(res, route, state);
    return answerSearch(res, route, rawQuery, state);
  }

  return {
    host: 'dicomweb',
    classify: (req) => routeDicomweb(req.method ?? 'GET', splitUrl(req).path)?.operation ?? 'Unknown',
    async handle(req, res, ctx) {
      const { path, rawQuery } = splitUrl(req);
      const auth = verifier.verify(req);
      const route = routeDicomweb(req.method ?? 'GET', path);
      if (!route) {
        await receiveSignedBody(req, auth, { maxBytes: MAX_OTHER_BODY, onWireBytes: ctx.addWireBytes });
        throw awsErrors.unknownOperation(req.method ?? 'GET', path);
      }
      const action = `medical-imaging:${IAM_ACTION[route.operation]}`;
      if (!auth.identity.allowed) throw accessDenied(auth.identity, action, datastoreArn(state.config, route.datastoreId));
      if (route.datastoreId !== state.config.datastoreId) throw awsErrors.notFound(`Datastore ${route.datastoreId} does not exist`);
      if (!state.config.stowEnabled && (route.operation === 'StoreDICOM' || route.operation === 'StoreDICOMStudy')) {
        // How AWS answers where DICOMweb STOW is not offered is not documented: an AccessDenied is assumed.
        throw accessDenied(auth.identity, action, datastoreArn(state.config));
      }
      await dispatch(req, res, route, auth, ctx, rawQuery);
    },
    writeError: (res, error, _ctx, close) => sendJsonError(res, restJsonError(error), close),
    faultError: restJsonFault,
  };
}
