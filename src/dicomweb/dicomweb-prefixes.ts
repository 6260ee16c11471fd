/** Where the DICOMweb routes answer: the default store, and every named store (store-target.ts). */
export const DICOMWEB_PREFIXES = ['dicomweb', 'stores/:store/dicomweb'];
