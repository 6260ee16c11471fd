/** Builds one store from its configuration: the only place that knows every kind of store. */
import { StoreConfig } from '../config/store-config';
import { DicomStore } from './dicom-store';
import { DicomwebStore } from './dicomweb/dicomweb-store';
import { GcpStore } from './gcp/gcp-store';
import { HealthImagingStore } from './healthimaging/healthimaging-store';
import { LocalStore } from './local/local-store';

export function createStore(config: StoreConfig): DicomStore {
  switch (config.kind) {
    case 'local':
      return new LocalStore(config.name, config.path);
    case 'dicomweb':
      return new DicomwebStore(config);
    case 'healthimaging':
      return new HealthImagingStore(config);
    case 'gcp':
      return new GcpStore(config);
  }
}
