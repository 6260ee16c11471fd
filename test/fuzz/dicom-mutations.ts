/**
 * Hostile DICOM instances, each made from a valid one: random byte damage, lying element lengths
 * (past the end, 0xFFFFFFFF on a value that is not a sequence, huge declared lengths) and broken
 * text (bogus Specific Character Set, ISO 2022 escapes cut in the middle, invalid UTF-8). Broken
 * structure is in dicom-structure.ts. Every generator says what it did, for the failure message.
 */
import { elementHeader, syntheticInstance, uidFromSeed } from '../fixtures/dicom-builder';
import { ElementSite, withLength } from './element-map';
import { SourceInstance, smallInstance, sourceInstances, withFreshUid } from './dicom-sources';
import { Prng } from './prng';

export interface HostileInstance {
  description: string;
  bytes: Buffer;
}

const EXPLICIT_LE = { explicitVr: true, littleEndian: true };

/** Random damage to the bytes of a sample or synthetic instance. */
export function damagedBytes(rng: Prng, tag: string): HostileInstance {
  const source = rng.pick(sourceInstances());
  const bytes = withFreshUid(source, tag);
  const at = (from = 132) => rng.int(Math.min(from, bytes.length - 1), bytes.length - 1);
  const kind = rng.pick(['flip', 'flip-header', 'truncate', 'insert', 'delete', 'duplicate', 'zero', 'append', 'noise'] as const);
  switch (kind) {
    case 'flip':
    case 'flip-header': {
      const n = rng.int(1, 16);
      const end = kind === 'flip' ? bytes.length - 1 : Math.min(bytes.length - 1, (source.map?.datasetOffset ?? 300) + 600);
      for (let i = 0; i < n; i++) bytes[rng.int(128, end)] ^= 1 << rng.int(0, 7);
      return { description: `${source.name}: ${n} bit(s) flipped ${kind === 'flip' ? 'anywhere' : 'in the header'}`, bytes };
    }
    case 'truncate': {
      const cut = at(0);
      return { description: `${source.name}: cut at ${cut} of ${bytes.length}`, bytes: bytes.subarray(0, cut) };
    }
    case 'insert': {
      const p = at();
      const noise = rng.bytes(rng.int(1, 64));
      return { description: `${source.name}: ${noise.length} random bytes inserted at ${p}`, bytes: Buffer.concat([bytes.subarray(0, p), noise, bytes.subarray(p)]) };
    }
    case 'delete': {
      const p = at();
      const n = rng.int(1, 256);
      return { description: `${source.name}: ${n} bytes deleted at ${p}`, bytes: Buffer.concat([bytes.subarray(0, p), bytes.subarray(p + n)]) };
    }
    case 'duplicate': {
      const p = at();
      const slice = bytes.subarray(p, p + rng.int(1, 512));
      return { description: `${source.name}: ${slice.length} bytes at ${p} repeated`, bytes: Buffer.concat([bytes.subarray(0, p + slice.length), slice, bytes.subarray(p + slice.length)]) };
    }
    case 'zero': {
      const p = at();
      const n = rng.int(1, 128);
      bytes.fill(0, p, Math.min(bytes.length, p + n));
      return { description: `${source.name}: ${n} bytes zeroed at ${p}`, bytes };
    }
    case 'append':
      return { description: `${source.name}: random bytes appended`, bytes: Buffer.concat([bytes, rng.bytes(rng.int(1, 300))]) };
    case 'noise': {
      const noise = rng.bytes(rng.int(0, 4096));
      if (rng.chance(0.5) && noise.length >= 132) noise.write('DICM', 128, 'latin1');
      return { description: `${noise.length} random bytes${noise.length >= 132 && noise.toString('latin1', 128, 132) === 'DICM' ? ' with DICM' : ''}`, bytes: noise };
    }
  }
}

/** An element, item or delimiter of a walkable source given a length that lies. */
export function lyingLength(rng: Prng, tag: string): HostileInstance {
  if (rng.chance(0.25)) return hugeDeclaredValue(rng, tag);
  const walkable = sourceInstances().filter((s): s is SourceInstance & { map: NonNullable<SourceInstance['map']> } => s.map !== undefined);
  const source = rng.pick(walkable);
  const bytes = withFreshUid(source, tag);
  const sites = source.map.sites;
  const interesting = sites.filter((s) => s.item || s.vr === 'SQ' || s.tag === 0x7fe00010 || s.tag === 0x00020000 || s.depth > 0);
  const site: ElementSite = interesting.length > 0 && rng.chance(0.5) ? rng.pick(interesting) : rng.pick(sites);
  const rest = bytes.length - site.valueOffset;
  const choices: [string, number][] = [
    ['0xFFFFFFFF (undefined)', 0xffffffff],
    ['0xFFFFFFFE', 0xfffffffe],
    ['0x7FFFFFFF', 0x7fffffff],
    ['past the end', rest + rng.int(1, 4096)],
    ['one more', site.length + 1],
    ['one less (odd)', Math.max(0, site.length - 1)],
    ['zero', 0],
    ['random', rng.uint32()],
    ['0xFFFF', 0xffff],
  ];
  const [what, length] = rng.pick(choices);
  const tagText = site.tag.toString(16).padStart(8, '0');
  return {
    description: `${source.name}: (${tagText.slice(0, 4)},${tagText.slice(4)}) ${site.vr ?? (site.item ? 'item' : 'implicit')} at ${site.offset}, depth ${site.depth}: length ${site.length} -> ${what} ${length}`,
    bytes: withLength(bytes, site, length),
  };
}

/** A value before Pixel Data that declares far more bytes than are sent (or than memory should hold). */
function hugeDeclaredValue(rng: Prng, tag: string): HostileInstance {
  const vr = rng.pick(['OB', 'UN', 'UT', 'OW', 'UC'] as const);
  const declared = rng.pick([0x7ffffff0, 0xfffffff0, 0x40000000, 5 * 1024 * 1024, 3 * 1024 * 1024]);
  // Sent whole only when small enough to send: then the gateway must hold or refuse it.
  const sent = declared <= 5 * 1024 * 1024 && rng.chance(0.5) ? declared : rng.int(0, 2048);
  const base = smallInstance(tag);
  const px = base.indexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]));
  const element = Buffer.concat([elementHeader(0x00091010, vr, declared, EXPLICIT_LE), Buffer.alloc(sent, 0x41)]);
  return {
    description: `private ${vr} (0009,1010) declaring ${declared} bytes, ${sent} sent${sent === declared ? '' : ', then Pixel Data'}`,
    bytes: Buffer.concat([base.subarray(0, px), element, base.subarray(px)]),
  };
}

const INVALID_UTF8 = [
  [0xc3, 0x28], [0xa0, 0xa1], [0xe2, 0x28, 0xa1], [0xe2, 0x82], [0xf0, 0x28, 0x8c, 0xbc], [0xf8, 0xa1, 0xa1, 0xa1, 0xa1],
  [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xff, 0xfe], [0xef, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0x00],
];
const CHARSETS = [
  'ISO_IR 999', 'ISO 2022 IR 87', '\\ISO 2022 IR 87', 'ISO 2022 IR 6\\ISO 2022 IR 87\\ISO 2022 IR 159', 'ISO_IR 192\\ISO_IR 100', '',
  '\\\\\\', 'GB18030', 'GBK', 'ISO 2022 IR 149', 'ISO_IR 13', 'ISO_IR 192', 'iso_ir 100', 'ISO 2022 IR 58\\ISO_IR 192', 'X'.repeat(64), 'ISO_IR 100\\ISO 2022 IR 13',
];
const ESCAPES = ['\x1b$B', '\x1b$', '\x1b', '\x1b$)C', '\x1b(J', '\x1b$(D', '\x1b-A', '\x1b(B', '\x1b$B\x30'];

/** Text a character set decoder must survive: any Specific Character Set, any bytes. */
export function brokenText(rng: Prng, tag: string): HostileInstance {
  const charset = rng.chance(0.15) ? rng.bytes(rng.int(1, 40)) : Buffer.from(rng.pick(CHARSETS), 'latin1');
  const text = () => {
    const parts: Buffer[] = [];
    for (let i = rng.int(1, 6); i > 0; i--) {
      const kind = rng.int(0, 3);
      if (kind === 0) parts.push(Buffer.from(rng.pick(INVALID_UTF8)));
      else if (kind === 1) parts.push(Buffer.from(rng.pick(ESCAPES), 'latin1'), rng.bytes(rng.int(0, 3)));
      else if (kind === 2) parts.push(Buffer.from(rng.pick(['Yamada^Tarou', '山田^太郎', 'Müller', '^', '=', '\\']), 'utf8'));
      else parts.push(rng.bytes(rng.int(1, 8)));
    }
    return Buffer.concat(parts);
  };
  const field = rng.pick(['PatientName', 'StudyDescription', 'InstitutionName', 'PatientComments', 'ReferringPhysicianName', 'AccessionNumber'] as const);
  const value = text();
  const bytes = syntheticInstance({
    studyUid: uidFromSeed(tag, 'study'),
    seriesUid: uidFromSeed(tag, 'series'),
    sopInstanceUid: uidFromSeed(tag, 'instance'),
    rows: 8,
    columns: 8,
    extraElements: [
      { tag: 'SpecificCharacterSet', vr: 'CS', value: charset },
      { tag: field, value },
      ...(rng.chance(0.5) ? [{ tag: 'PatientName', value: text() }] : []),
    ],
  });
  return { description: `Specific Character Set ${JSON.stringify(charset.toString('latin1'))}, ${field} = ${value.toString('hex')}`, bytes };
}
