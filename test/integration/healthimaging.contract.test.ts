/**
 * The store contract against the HealthImaging adapter and the wire-level fake of AWS
 * HealthImaging (test/fakes/healthimaging): SigV4-signed DICOMweb, with study and series retrieve
 * and study metadata composed at the gateway, as HealthImaging offers neither.
 */
import { startHealthImagingGateway } from '../helpers/healthimaging-gateway';
import { registerStoreContract } from './store-contract';

registerStoreContract('healthimaging (AWS HealthImaging fake)', async () => {
  const setup = await startHealthImagingGateway();
  return { dicomweb: setup.dicomweb, close: () => setup.close() };
});
