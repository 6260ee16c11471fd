/**
 * The store contract against the Google Cloud Healthcare adapter and the wire-level fake of a
 * Google DICOM store (test/fakes/gcp), with the real JWT-bearer token flow of google-auth-library
 * against the fake's token endpoint.
 */
import { startGcpGateway } from '../helpers/gcp-gateway';
import { registerStoreContract } from './store-contract';

registerStoreContract('gcp (Google Cloud Healthcare fake)', async () => {
  const setup = await startGcpGateway();
  return { dicomweb: setup.dicomweb, close: () => setup.close() };
});
