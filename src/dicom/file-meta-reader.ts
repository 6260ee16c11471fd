/**
 * Reads the File Meta Information group (PS3.10 7.1, always Explicit VR Little Endian) from the
 * first bytes of a stored file, for answers that keep the data set bytes and only regenerate the
 * File Meta Information (deflated data sets served inflated).
 */
import { ByteSource } from './byte-source';
import { DicomDataset } from './dataset';
import { DatasetReader } from './dataset-reader';
import { MemoryBudget } from './memory-budget';

/** @param bytes the file from its start to the first data set byte (preamble, "DICM", group 0002) */
export function readFileMeta(bytes: Buffer): DicomDataset {
  if (bytes.length < 132 || bytes.toString('latin1', 128, 132) !== 'DICM') return new Map();
  const source = new ByteSource(132);
  source.push(bytes.subarray(132));
  const reader = new DatasetReader(source, {
    explicitVr: true,
    littleEndian: true,
    bulkThreshold: 64 * 1024,
    budget: new MemoryBudget(16 * 1024 * 1024),
    onlyGroup: 0x0002,
  });
  reader.advance();
  return reader.dataset;
}
