/**
 * The containers the data set reader can be inside of (PS3.5 7.5): the top-level data set or an
 * item, a sequence, encapsulated Pixel Data. The reader keeps them on an explicit stack instead of
 * recursing, so it can stop at any byte and resume with the next chunk.
 */
import { DicomDataset, EncapsulatedPixelData } from './dataset';

export interface Encoding {
  explicitVr: boolean;
  littleEndian: boolean;
}

export interface FrameBase extends Encoding {
  /** Absolute offset where a defined-length container ends; Infinity when it ends at a delimiter
   *  (or at the end of input, for the top level). */
  end: number;
  /** The nearest defined end among this frame and its ancestors: nothing inside may pass it. */
  limit: number;
}
/** The top-level data set or one item of a sequence. */
export interface DatasetFrame extends FrameBase {
  kind: 'dataset';
  dataset: DicomDataset;
  /** Undefined-length item, closed by an Item Delimitation Item (PS3.5 7.5.2). */
  delimited: boolean;
}
export interface SequenceFrame extends FrameBase {
  kind: 'sequence';
  items: DicomDataset[];
  /** Undefined-length sequence, closed by a Sequence Delimitation Item (PS3.5 7.5.2). */
  delimited: boolean;
}
/** Encapsulated Pixel Data: Basic Offset Table item, fragment items, delimiter (PS3.5 A.4). */
export interface FragmentsFrame extends FrameBase {
  kind: 'fragments';
  pixels: EncapsulatedPixelData;
  sawOffsetTable: boolean;
}
export type Frame = DatasetFrame | SequenceFrame | FragmentsFrame;
