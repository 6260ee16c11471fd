/**
 * Which store a DICOMweb request addresses, and the public base URL of that store's DICOMweb
 * root as the client used it: /dicomweb for the default store, /stores/{name}/dicomweb for any
 * named one (the default store answers at both). Every URL handed out (Retrieve URL,
 * BulkDataURI) starts with this base, so a client stays on the prefix it chose.
 */
import type { FastifyRequest } from 'fastify';
import { GatewayConfig } from '../config/gateway-config';
import { DicomStore } from '../stores/dicom-store';
import { StoreRegistry } from '../stores/registry';
import { publicServerRoot } from './public-url';

export interface StoreTarget {
  store: DicomStore;
  /** e.g. "https://pacs.example.org/stores/orthanc/dicomweb" (no trailing slash). */
  base: string;
}

export function storeTarget(request: FastifyRequest, registry: StoreRegistry, config: GatewayConfig): StoreTarget {
  const name = (request.params as { store?: string } | undefined)?.store;
  // Unknown names are refused here (404), before any use of the name in a URL.
  const store = registry.get(name);
  const prefix = name === undefined ? '/dicomweb' : `/stores/${store.name}/dicomweb`;
  return { store, base: `${publicServerRoot(request, config)}${prefix}` };
}
