/**
 * The in-memory shape of a parsed DICOM data set, as produced by the streaming Part-10 parser
 * (part10-parser.ts) and consumed by the DICOM JSON writer (dicom-json.ts).
 *
 * Values stay raw bytes in the data set's own byte order: decoding (numbers, character sets) happens
 * once, when the DICOM JSON is written. Large binary values are not kept in memory at all: the
 * parser records where they sit in the file (BulkRef) so WADO can serve them by offset later.
 */

/** (group << 16 | element) as an unsigned 32-bit number, e.g. 0x00100010 for Patient Name. */
export type Tag = number;

/** Where a value sits in the byte stream the parser read. */
export interface BulkRef {
  /** Byte offset of the first value byte, counted from the start of the Part-10 file (or of the
   *  inflated data set for Deflated transfer syntaxes, see ParsedPart10.deflated). */
  offset: number;
  /** Length of the value in bytes. */
  length: number;
}

/** Encapsulated (compressed) Pixel Data: the Basic Offset Table and each fragment's position. */
export interface EncapsulatedPixelData {
  /** Values of the Basic Offset Table (first item); empty when the table is empty. */
  basicOffsetTable: number[];
  /** Every fragment after the offset table, in order, with the position of its value bytes. */
  fragments: BulkRef[];
}

export interface DicomElement {
  tag: Tag;
  /** Two-letter VR: from the stream for explicit VR, from the dictionary (or 'UN') for implicit VR. */
  vr: string;
  /** Raw value bytes (in the data set's byte order), for values kept in memory. */
  value?: Buffer;
  /** Items of a sequence (VR SQ). */
  items?: DicomDataset[];
  /** A binary value too large to keep in memory: where it is in the file. */
  bulk?: BulkRef;
  /** Encapsulated Pixel Data (undefined length, fragments). */
  encapsulated?: EncapsulatedPixelData;
}

/** Elements in stream order (ascending tags in a well-formed data set). */
export type DicomDataset = Map<Tag, DicomElement>;

export interface ParsedPart10 {
  /** File Meta Information elements (group 0002). */
  meta: DicomDataset;
  /** The data set proper (everything after group 0002). */
  dataset: DicomDataset;
  transferSyntaxUid: string;
  littleEndian: boolean;
  explicitVr: boolean;
  /** True for Deflated Explicit VR Little Endian: BulkRef offsets then count from the start of
   *  the inflated data set, not the file. */
  deflated: boolean;
  /** Offset in the file where the data set (after the File Meta Information) starts. */
  datasetOffset: number;
  /** Total number of bytes read. */
  fileLength: number;
  /** The input had no preamble and File Meta Information (see Part10ParserOptions.acceptBareDataset). */
  bareDataset?: boolean;
}

export function tagToHex(tag: Tag): string {
  return (tag >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

export function hexToTag(hex: string): Tag {
  return parseInt(hex, 16) >>> 0;
}

export const Tags = {
  FileMetaInformationGroupLength: 0x00020000,
  MediaStorageSOPClassUID: 0x00020002,
  MediaStorageSOPInstanceUID: 0x00020003,
  TransferSyntaxUID: 0x00020010,
  SpecificCharacterSet: 0x00080005,
  SOPClassUID: 0x00080016,
  SOPInstanceUID: 0x00080018,
  StudyDate: 0x00080020,
  StudyTime: 0x00080030,
  AccessionNumber: 0x00080050,
  Modality: 0x00080060,
  RetrieveURL: 0x00081190,
  FailedSOPSequence: 0x00081198,
  ReferencedSOPSequence: 0x00081199,
  ReferencedSOPClassUID: 0x00081150,
  ReferencedSOPInstanceUID: 0x00081155,
  FailureReason: 0x00081197,
  WarningReason: 0x00081196,
  PatientName: 0x00100010,
  PatientID: 0x00100020,
  StudyInstanceUID: 0x0020000d,
  SeriesInstanceUID: 0x0020000e,
  NumberOfFrames: 0x00280008,
  Rows: 0x00280010,
  Columns: 0x00280011,
  SamplesPerPixel: 0x00280002,
  BitsAllocated: 0x00280100,
  ExtendedOffsetTable: 0x7fe00001,
  ExtendedOffsetTableLengths: 0x7fe00002,
  PixelData: 0x7fe00010,
  FloatPixelData: 0x7fe00008,
  DoubleFloatPixelData: 0x7fe00009,
  Item: 0xfffee000,
  ItemDelimitationItem: 0xfffee00d,
  SequenceDelimitationItem: 0xfffee0dd,
} as const;
