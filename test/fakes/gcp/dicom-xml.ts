/**
 * DICOM JSON -> the Native DICOM Model XML of PS3.19 A.1, as Google writes a STOW answer when the
 * client did not ask for JSON (reference 2.3: `<NativeDicomModel><DicomAttribute tag="00081190"
 * vr="UR" keyword="RetrieveURL"><Value number="1">...`). Private elements carry their creator as a
 * `privateCreator` attribute instead of a (gggg,0010) element of their own, as in Google's answer.
 * Enough for STOW answers: text, numbers, person names and sequences.
 */
import { dictionaryByTag } from '../dicom-archive/dcmjs-binding';
import { DicomJsonDataset } from '../dicom-archive/dicom-json';

/** Google's private FailureDetail has no dictionary entry. */
const PRIVATE_KEYWORDS: Record<string, string> = { '00090097': 'FailureDetail' };

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const isPrivate = (tag: string) => parseInt(tag.slice(0, 4), 16) % 2 === 1;
/** (gggg,0010-00FF) LO; Google's FailureDetail sits at (0009,0097) as LT, so the VR tells them apart. */
const isPrivateCreator = (tag: string, vr: string) => isPrivate(tag) && tag.slice(4, 6) === '00' && parseInt(tag.slice(6), 16) >= 0x10 && vr === 'LO';

function attributes(dataset: DicomJsonDataset): string {
  let out = '';
  for (const tag of Object.keys(dataset).sort()) {
    const a = dataset[tag];
    if (isPrivateCreator(tag, a.vr)) continue;
    const keyword = PRIVATE_KEYWORDS[tag] ?? dictionaryByTag(tag)?.keyword;
    const creator = isPrivate(tag) ? dataset[`${tag.slice(0, 4)}0010`]?.Value?.[0] : undefined;
    out += `<DicomAttribute tag="${tag}" vr="${a.vr}"${keyword ? ` keyword="${keyword}"` : ''}${creator ? ` privateCreator="${escape(String(creator))}"` : ''}>`;
    (a.Value ?? []).forEach((v, i) => {
      const n = i + 1;
      if (a.vr === 'SQ') out += `<Item number="${n}">${attributes(v as DicomJsonDataset)}</Item>`;
      else if (a.vr === 'PN' && v && typeof v === 'object') {
        const name = (v as { Alphabetic?: string }).Alphabetic ?? '';
        const [family = '', given = '', middle = '', prefix = '', suffix = ''] = name.split('^');
        const parts = { FamilyName: family, GivenName: given, MiddleName: middle, NamePrefix: prefix, NameSuffix: suffix };
        out += `<PersonName number="${n}"><Alphabetic>${Object.entries(parts).filter(([, p]) => p !== '').map(([k, p]) => `<${k}>${escape(p)}</${k}>`).join('')}</Alphabetic></PersonName>`;
      } else if (v !== null && v !== undefined) out += `<Value number="${n}">${escape(String(v))}</Value>`;
    });
    if (a.InlineBinary !== undefined) out += `<InlineBinary>${a.InlineBinary}</InlineBinary>`;
    if (a.BulkDataURI !== undefined) out += `<BulkData uri="${escape(a.BulkDataURI)}"/>`;
    out += '</DicomAttribute>';
  }
  return out;
}

export function toNativeDicomModel(dataset: DicomJsonDataset): string {
  return `<NativeDicomModel>${attributes(dataset)}</NativeDicomModel>`;
}
