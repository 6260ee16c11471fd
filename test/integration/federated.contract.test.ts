/**
 * The store contract against a federated store over the embedded store, a real Orthanc and the
 * Google Cloud fake, writing to the embedded store: whatever the view, a client gets the same
 * standard answers as from any one store.
 */
import { startFederatedGateway } from '../helpers/federated-gateway';
import { orthancAvailable } from '../helpers/orthanc';
import { registerStoreContract } from './store-contract';

if (orthancAvailable()) {
  registerStoreContract('federated (embedded store, Orthanc, Google fake)', async () => {
    const setup = await startFederatedGateway();
    return { dicomweb: setup.url('everywhere'), close: () => setup.close() };
  });
}
