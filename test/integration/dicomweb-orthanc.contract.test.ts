/**
 * The store contract against a real Orthanc 1.10 (DICOMweb plugin 1.7) through the dicomweb
 * adapter. Orthanc departs from the standard in several of these cases (raw query values, frame
 * framing, Implicit VR answered by default, 400/500 for missing frames, silent duplicates); the
 * gateway must close each gap, so the cases are the same as for the embedded store.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { orthancAvailable, startOrthanc } from '../helpers/orthanc';
import { makeTempDir } from '../helpers/temp-dir';
import { startInProcessGateway } from '../helpers/test-gateway';
import { registerStoreContract } from './store-contract';

if (orthancAvailable()) {
  registerStoreContract(
    'dicomweb (Orthanc 1.10 + DICOMweb plugin 1.7)',
    async () => {
      const orthanc = await startOrthanc();
      const dir = makeTempDir('contract-orthanc');
      const config = join(dir.path, 'gateway.yaml');
      writeFileSync(
        config,
        ['stores:', '  - name: orthanc', '    kind: dicomweb', `    url: ${orthanc.dicomwebUrl}`, '    percentEncodeQuery: false', ''].join('\n'),
      );
      const gw = await startInProcessGateway({ CONFIG_FILE: config, DATA_DIR: join(dir.path, 'data') });
      return {
        dicomweb: `${gw.baseUrl}/stores/orthanc/dicomweb`,
        close: async () => {
          await gw.stop();
          await orthanc.stop();
          dir.remove();
        },
      };
    },
    // Orthanc 1.10 without its GDCM plugin cannot decode JPEG 2000 (it answers 500): the gateway does.
    {},
  );
}
