/**
 * Reads just the Part-10 preamble and File Meta Information (PS3.10 7.1, always Explicit VR
 * Little Endian) to learn the transfer syntax before the data set is parsed, so that an archive can
 * tell "not DICOM" (0xC000) from "a syntax I cannot read" (0xC122) as a real one would.
 */
const LONG_LENGTH_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'UC', 'UN', 'UR', 'UT', 'SV', 'UV']);

export type Part10Header = { ok: true; transferSyntaxUid: string } | { ok: false; problem: string };

export function readPart10Header(bytes: Buffer): Part10Header {
  if (bytes.length < 132 || bytes.toString('latin1', 128, 132) !== 'DICM') return { ok: false, problem: 'no DICM prefix after the 128-byte preamble' };
  let offset = 132;
  let transferSyntaxUid: string | undefined;
  while (offset + 8 <= bytes.length && bytes.readUInt16LE(offset) === 0x0002) {
    const element = bytes.readUInt16LE(offset + 2);
    const vr = bytes.toString('latin1', offset + 4, offset + 6);
    let length: number;
    let valueStart: number;
    if (LONG_LENGTH_VRS.has(vr)) {
      if (offset + 12 > bytes.length) break;
      length = bytes.readUInt32LE(offset + 8);
      valueStart = offset + 12;
    } else {
      length = bytes.readUInt16LE(offset + 6);
      valueStart = offset + 8;
    }
    if (valueStart + length > bytes.length) return { ok: false, problem: 'the File Meta Information is truncated' };
    if (element === 0x0010) transferSyntaxUid = bytes.toString('latin1', valueStart, valueStart + length).replace(/[\0 ]+$/, '');
    offset = valueStart + length;
  }
  if (!transferSyntaxUid) return { ok: false, problem: 'the File Meta Information has no Transfer Syntax UID (0002,0010)' };
  return { ok: true, transferSyntaxUid };
}
