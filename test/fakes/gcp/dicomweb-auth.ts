/**
 * Who may call the DICOMweb server, checked in Google's order: a bearer token at all (401
 * "missing required authentication credential"), one the token endpoint issued, unexpired and of
 * a key not deleted (else 401 "invalid authentication credentials"), granted a scope that covers
 * the Healthcare API (cloud-healthcare or cloud-platform; else 403 insufficient scopes), then the
 * account's IAM permission on the store named in the path (403 naming the permission). Only then
 * is a store other than the fake's 404: to a caller without permission Google does not say whether
 * a resource exists.
 */
import { IncomingMessage } from 'node:http';
import { AccessToken, AccessTokens } from './access-tokens';
import { GcpFakeConfig, iamResource, storeName } from './gcp-config';
import { googleErrors } from './google-errors';
import { ServiceAccounts } from './service-accounts';
import { DicomwebRoute, permissionOf } from './dicomweb-routes';

export const HEALTHCARE_SCOPES: readonly string[] = ['https://www.googleapis.com/auth/cloud-healthcare', 'https://www.googleapis.com/auth/cloud-platform'];

export function authenticate(req: IncomingMessage, tokens: AccessTokens, accounts: ServiceAccounts): AccessToken {
  const header = req.headers.authorization;
  if (header === undefined || header.trim() === '') throw googleErrors.missingCredential();
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) throw googleErrors.invalidCredential();
  const token = tokens.valid(m[1]);
  if (!token || !accounts.isLiveKey(token.keyId) || !accounts.account(token.email)) throw googleErrors.invalidCredential();
  if (!HEALTHCARE_SCOPES.some((s) => token.scopes.has(s))) throw googleErrors.insufficientScope();
  return token;
}

export function authorize(token: AccessToken, route: DicomwebRoute, accounts: ServiceAccounts, config: GcpFakeConfig): void {
  const account = accounts.account(token.email)!;
  if (!account.allowed) throw googleErrors.permissionDenied(permissionOf(route.operation), iamResource(storeName(route.store)));
  const s = route.store;
  if (s.project !== config.project || s.location !== config.location || s.dataset !== config.dataset || s.dicomStore !== config.dicomStore) {
    // The wording of Google's 404 for a missing dataset or store is UNCONFIRMED.
    const datasetExists = s.project === config.project && s.location === config.location && s.dataset === config.dataset;
    const name = datasetExists ? storeName(s) : `projects/${s.project}/locations/${s.location}/datasets/${s.dataset}`;
    throw googleErrors.notFound(`${datasetExists ? 'DICOM store' : 'Dataset'} ${name} not found`);
  }
}
