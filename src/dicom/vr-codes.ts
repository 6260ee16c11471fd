/**
 * Value Representations as the Part-10 parser needs them: which two-letter codes exist
 * (PS3.5 Table 6.2-1), which use the 2 reserved bytes + 4-byte length form in explicit VR
 * (PS3.5 7.1.2, Table 7.1-1), and which hold opaque binary data that may be left on disk as bulk.
 */
export interface VrInfo {
  name: string;
  /** Explicit VR header: 2 reserved bytes and a 32-bit length (else a 16-bit length). */
  longLength: boolean;
  /** Opaque binary value (OB OD OF OL OV OW UN): a bulk data candidate when large. */
  binary: boolean;
}

const LONG_LENGTH = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV']);
const BINARY = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'UN']);
const ALL = [
  'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FL', 'FD', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV',
  'OW', 'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV',
];

/** Indexed by the two ASCII bytes of the VR as a big-endian 16-bit number ('OB' = 0x4f42). */
const byCode: (VrInfo | undefined)[] = new Array(0x10000);
const byName = new Map<string, VrInfo>();
for (const name of ALL) {
  const info: VrInfo = { name, longLength: LONG_LENGTH.has(name), binary: BINARY.has(name) };
  byCode[(name.charCodeAt(0) << 8) | name.charCodeAt(1)] = info;
  byName.set(name, info);
}

export const UN_VR = byName.get('UN')!;

/** The VR whose two bytes, read in stream order, are (first << 8 | second); undefined if unknown. */
export function vrFromCode(code: number): VrInfo | undefined {
  return byCode[code];
}

/** The VR named by a dictionary entry; UN for anything not in PS3.5 Table 6.2-1. */
export function vrFromName(name: string): VrInfo {
  return byName.get(name) ?? UN_VR;
}
