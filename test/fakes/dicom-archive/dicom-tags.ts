/**
 * Tags the fake archive reads or computes, in the form dcmjs and DICOM JSON use (8 upper case hex
 * digits), and the lookup of a QIDO attribute name (keyword or tag) in the dcmjs dictionary.
 */
import { dictionaryByKeyword, dictionaryByTag } from './dcmjs-binding';

export const T = {
  TransferSyntaxUID: '00020010',
  SpecificCharacterSet: '00080005',
  SOPClassUID: '00080016',
  SOPInstanceUID: '00080018',
  StudyDate: '00080020',
  StudyTime: '00080030',
  AccessionNumber: '00080050',
  InstanceAvailability: '00080056',
  Modality: '00080060',
  ModalitiesInStudy: '00080061',
  ReferringPhysicianName: '00080090',
  TimezoneOffsetFromUTC: '00080201',
  SeriesDescription: '0008103E',
  RetrieveURL: '00081190',
  WarningReason: '00081196',
  FailureReason: '00081197',
  FailedSOPSequence: '00081198',
  ReferencedSOPSequence: '00081199',
  ReferencedSOPClassUID: '00081150',
  ReferencedSOPInstanceUID: '00081155',
  PatientName: '00100010',
  PatientID: '00100020',
  PatientBirthDate: '00100030',
  PatientBirthTime: '00100032',
  PatientSex: '00100040',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  StudyID: '00200010',
  SeriesNumber: '00200011',
  InstanceNumber: '00200013',
  NumberOfStudyRelatedSeries: '00201206',
  NumberOfStudyRelatedInstances: '00201208',
  NumberOfSeriesRelatedInstances: '00201209',
  SamplesPerPixel: '00280002',
  PhotometricInterpretation: '00280004',
  PlanarConfiguration: '00280006',
  NumberOfFrames: '00280008',
  Rows: '00280010',
  Columns: '00280011',
  BitsAllocated: '00280100',
  PerformedProcedureStepStartDate: '00400244',
  PerformedProcedureStepStartTime: '00400245',
  RequestAttributesSequence: '00400275',
  PixelData: '7FE00010',
} as const;

export interface AttributeName {
  tag: string;
  vr: string;
  keyword?: string;
}

/** A QIDO attribute id: a keyword (`PatientID`) or 8 hex digits (`00100020`); undefined if neither. */
export function resolveAttribute(name: string): AttributeName | undefined {
  if (/^[0-9A-Fa-f]{8}$/.test(name)) {
    const tag = name.toUpperCase();
    const entry = dictionaryByTag(tag);
    return { tag, vr: entry?.vr ?? 'UN', keyword: entry?.keyword };
  }
  const entry = dictionaryByKeyword(name);
  return entry ? { tag: entry.tag, vr: entry.vr, keyword: entry.keyword } : undefined;
}

/** The dictionary VR of a tag ('UN' if unknown; dcmjs' 'xs'/'ox' ambiguous VRs as US/OW). */
export function dictionaryVr(tag: string): string {
  const vr = dictionaryByTag(tag)?.vr ?? 'UN';
  if (vr === 'xs') return 'US';
  if (vr === 'ox') return 'OW';
  return vr;
}
