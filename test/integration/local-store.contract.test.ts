/** The store contract against the embedded store, through /stores/{name}/dicomweb. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../helpers/temp-dir';
import { startInProcessGateway } from '../helpers/test-gateway';
import { registerStoreContract } from './store-contract';

registerStoreContract('local (embedded store)', async () => {
  const dir = makeTempDir('contract-local');
  const config = join(dir.path, 'gateway.yaml');
  writeFileSync(config, 'defaultStore: main\nstores:\n  - { name: main, kind: local }\n  - { name: edge-spool, kind: local }\n');
  const gw = await startInProcessGateway({ CONFIG_FILE: config, DATA_DIR: join(dir.path, 'data') });
  return {
    dicomweb: `${gw.baseUrl}/stores/edge-spool/dicomweb`,
    close: async () => {
      await gw.stop();
      dir.remove();
    },
  };
});
