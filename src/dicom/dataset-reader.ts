/**
 * The push state machine that turns a byte stream into a DicomDataset (PS3.5 7): data elements,
 * sequences and items of defined or undefined length, and encapsulated Pixel Data. It never
 * recurses and never waits inside an element: whatever the bytes buffered so far allow is parsed,
 * the rest waits for the next chunk. Nesting is an explicit stack of frames.
 *
 * Bulk values are skipped, not buffered; values kept in memory are charged to a MemoryBudget.
 */
import { ByteSource } from './byte-source';
import { BulkRef, DicomDataset, DicomElement, EncapsulatedPixelData, Tag, Tags } from './dataset';
import { Encoding, FragmentsFrame, Frame, DatasetFrame } from './dataset-frames';
import { describeTag, implicitVr } from './dictionary';
import { InvalidDicom } from './errors';
import { ENTRY_OVERHEAD, MemoryBudget } from './memory-budget';
import { UN_VR, VrInfo, vrFromCode, vrFromName } from './vr-codes';

/** Value Length 0xFFFFFFFF (PS3.5 7.1.1). */
const UNDEFINED_LENGTH = 0xffffffff;
const EMPTY = Buffer.alloc(0);

/**
 * Deepest nesting of sequences accepted. Real data nests a few levels (SR content trees a few
 * dozen at most), but whatever reads a data set afterwards walks it recursively (DICOM JSON,
 * transcoding, matching, study events), and past about a thousand levels that overflows the
 * stack; so deeper input is refused here, once, as malformed.
 */
export const MAX_SEQUENCE_DEPTH = 256;

export interface DatasetReaderOptions extends Encoding {
  bulkThreshold: number;
  budget: MemoryBudget;
  /** Read only top-level elements of this group and stop before the first other one: the File
   *  Meta Information has no overall length one can rely on (PS3.10 7.1). */
  onlyGroup?: number;
}

function u16(w: Buffer, o: number, le: boolean): number {
  return le ? w[o] | (w[o + 1] << 8) : (w[o] << 8) | w[o + 1];
}

function u32(w: Buffer, o: number, le: boolean): number {
  return le
    ? (w[o] | (w[o + 1] << 8) | (w[o + 2] << 16)) + w[o + 3] * 0x1000000
    : w[o] * 0x1000000 + ((w[o + 1] << 16) | (w[o + 2] << 8) | w[o + 3]);
}

function isPixelDataTag(tag: Tag): boolean {
  return tag === Tags.PixelData || tag === Tags.FloatPixelData || tag === Tags.DoubleFloatPixelData;
}

function malformed(message: string, offset: number): InvalidDicom {
  return new InvalidDicom('malformed', message, offset);
}

export class DatasetReader {
  readonly dataset: DicomDataset = new Map();
  private readonly stack: Frame[];
  private frame: Frame;
  /** Bytes of a bulk value or fragment still to skip. */
  private skipRemaining = 0;
  /** Element whose in-memory value is awaited, and its length. */
  private pendingElement: DicomElement | undefined;
  private pendingLength = 0;
  /** Length of the Basic Offset Table value awaited (-1: none). */
  private pendingOffsetTable = -1;
  private stopped = false;
  private sequenceDepth = 0;

  constructor(
    private readonly src: ByteSource,
    private readonly options: DatasetReaderOptions,
  ) {
    this.frame = {
      kind: 'dataset',
      dataset: this.dataset,
      delimited: false,
      end: Infinity,
      limit: Infinity,
      explicitVr: options.explicitVr,
      littleEndian: options.littleEndian,
    };
    this.stack = [this.frame];
  }

  /**
   * Parses as much as the buffered bytes allow. Returns true once an onlyGroup reader has met
   * the first element of another group (which stays unread); throws InvalidDicom on bad input.
   */
  advance(): boolean {
    const src = this.src;
    while (!this.stopped) {
      if (this.skipRemaining > 0) {
        this.skipRemaining -= src.skip(this.skipRemaining);
        if (this.skipRemaining > 0) return false;
      }
      if (this.pendingElement !== undefined) {
        if (src.available < this.pendingLength) return false;
        this.pendingElement.value = src.take(this.pendingLength);
        this.pendingElement = undefined;
      }
      if (this.pendingOffsetTable >= 0) {
        if (src.available < this.pendingOffsetTable) return false;
        this.readOffsetTable();
      }

      const f = this.frame;
      const pos = src.position;
      if (pos === f.end) {
        this.pop();
        continue;
      }
      // Every header is at least 8 bytes: tag + 4-byte length, or tag + VR + 2-byte length.
      if (pos + 8 > f.limit) {
        throw malformed(
          f.end === f.limit
            ? `${f.limit - pos} bytes left in a defined-length ${f.kind === 'sequence' ? 'sequence' : 'item'}: no room for an element`
            : 'an undefined-length item or sequence runs past the end of its enclosing defined-length item',
          pos,
        );
      }
      if (this.options.onlyGroup !== undefined && this.stack.length === 1) {
        if (src.available < 2) return false;
        const o = src.peek(2);
        if (u16(src.window, o, f.littleEndian) !== this.options.onlyGroup) {
          this.stopped = true;
          return true;
        }
      }
      if (src.available < 8) return false;
      const o = src.peek(8);
      const w = src.window;
      const le = f.littleEndian;
      const tag = ((u16(w, o, le) << 16) | u16(w, o + 2, le)) >>> 0;
      if (tag >>> 16 === 0xfffe) {
        this.readItemOrDelimiter(f, tag, u32(w, o + 4, le), pos);
      } else if (f.kind !== 'dataset') {
        throw malformed(`${describeTag(tag)} where only items may appear (inside ${f.kind === 'sequence' ? 'a sequence' : 'encapsulated Pixel Data'})`, pos);
      } else if (!this.readElement(f, tag, pos, o)) {
        return false;
      }
    }
    return true;
  }

  /** End of input: anything but a top-level element boundary means the data was cut short. */
  finish(): void {
    if (this.stopped) return;
    const pos = this.src.position;
    if (this.skipRemaining > 0 || this.pendingElement !== undefined || this.pendingOffsetTable >= 0) {
      const missing = this.skipRemaining || (this.pendingElement ? this.pendingLength : this.pendingOffsetTable) - this.src.available;
      throw new InvalidDicom('truncated', `input ended inside a value, ${missing} bytes short`, pos);
    }
    if (this.src.available > 0) {
      throw new InvalidDicom('truncated', `input ended inside an element header (${this.src.available} bytes left)`, pos);
    }
    if (this.stack.length > 1) {
      const what = this.frame.kind === 'fragments' ? 'encapsulated Pixel Data' : this.frame.kind === 'sequence' ? 'a sequence' : 'an item';
      throw new InvalidDicom('truncated', `input ended inside ${what} (nesting depth ${this.stack.length - 1})`, pos);
    }
  }

  /** `o`: where the 8 peeked header bytes start in src.window. Returns false when the header is
   *  not complete yet (nothing consumed). */
  private readElement(f: DatasetFrame, tag: Tag, pos: number, o: number): boolean {
    const src = this.src;
    let vr: VrInfo;
    let length: number;
    let headerLength = 8;
    if (f.explicitVr) {
      const w = src.window;
      const found = vrFromCode((w[o + 4] << 8) | w[o + 5]);
      if (found === undefined) {
        throw malformed(`${describeTag(tag)} has an unknown VR ${JSON.stringify(String.fromCharCode(w[o + 4], w[o + 5]))}`, pos);
      }
      vr = found;
      if (vr.longLength) {
        headerLength = 12;
        if (pos + 12 > f.limit) throw malformed(`${describeTag(tag)}: header runs past the end of its item`, pos);
        if (src.available < 12) return false;
        const o12 = src.peek(12);
        length = u32(src.window, o12 + 8, f.littleEndian);
      } else {
        length = u16(w, o + 6, f.littleEndian);
      }
    } else {
      vr = vrFromName(implicitVr(tag));
      length = u32(src.window, o + 4, f.littleEndian);
    }
    src.skip(headerLength);
    const valuePos = pos + headerLength;
    this.options.budget.charge(ENTRY_OVERHEAD, pos);

    if (length === UNDEFINED_LENGTH) {
      f.dataset.set(tag, this.openUndefinedLength(f, tag, vr, pos));
      return true;
    }
    if (valuePos + length > f.limit) {
      throw malformed(`${describeTag(tag)}: value length ${length} runs past the end of its enclosing item`, pos);
    }
    if (vr.name === 'SQ') {
      const items: DicomDataset[] = [];
      f.dataset.set(tag, { tag, vr: 'SQ', items });
      const end = valuePos + length;
      this.push({ kind: 'sequence', items, delimited: false, end, limit: end, explicitVr: f.explicitVr, littleEndian: f.littleEndian });
    } else if (isPixelDataTag(tag) || (vr.binary && length > this.options.bulkThreshold)) {
      const bulk: BulkRef = { offset: valuePos, length };
      f.dataset.set(tag, { tag, vr: vr.name, bulk });
      this.skipRemaining = length;
    } else {
      this.options.budget.charge(length, pos);
      const element: DicomElement = { tag, vr: vr.name, value: EMPTY };
      f.dataset.set(tag, element);
      if (length > 0) {
        this.pendingElement = element;
        this.pendingLength = length;
      }
    }
    return true;
  }

  /** Undefined length is only meaningful for sequences and encapsulated Pixel Data (PS3.5 7.1.2). */
  private openUndefinedLength(f: DatasetFrame, tag: Tag, vr: VrInfo, pos: number): DicomElement {
    const limit = f.limit;
    if (tag === Tags.PixelData) {
      const pixels: EncapsulatedPixelData = { basicOffsetTable: [], fragments: [] };
      this.push({ kind: 'fragments', pixels, sawOffsetTable: false, end: Infinity, limit, explicitVr: f.explicitVr, littleEndian: f.littleEndian });
      return { tag, vr: f.explicitVr ? vr.name : 'OB', encapsulated: pixels };
    }
    const items: DicomDataset[] = [];
    if (vr.name === 'SQ' || !f.explicitVr) {
      // Implicit VR: an undefined length can only be a sequence (PS3.5 7.5).
      this.push({ kind: 'sequence', items, delimited: true, end: Infinity, limit, explicitVr: f.explicitVr, littleEndian: f.littleEndian });
    } else if (vr === UN_VR) {
      // UN of undefined length is a sequence encoded as Implicit VR Little Endian (PS3.5 6.2.2);
      // reported as SQ because that is what it is.
      this.push({ kind: 'sequence', items, delimited: true, end: Infinity, limit, explicitVr: false, littleEndian: true });
    } else {
      throw malformed(`${describeTag(tag)}: undefined length is not allowed for VR ${vr.name}`, pos);
    }
    return { tag, vr: 'SQ', items };
  }

  private readItemOrDelimiter(f: Frame, tag: Tag, length: number, pos: number): void {
    const valuePos = pos + 8;
    if (tag === Tags.Item) {
      if (f.kind === 'sequence') {
        this.src.skip(8);
        this.options.budget.charge(ENTRY_OVERHEAD, pos);
        const item: DicomDataset = new Map();
        f.items.push(item);
        const end = length === UNDEFINED_LENGTH ? Infinity : valuePos + length;
        if (end !== Infinity && end > f.limit) {
          throw malformed(`item length ${length} runs past the end of its enclosing sequence or item`, pos);
        }
        this.push({
          kind: 'dataset',
          dataset: item,
          delimited: end === Infinity,
          end,
          limit: Math.min(end, f.limit),
          explicitVr: f.explicitVr,
          littleEndian: f.littleEndian,
        });
        return;
      }
      if (f.kind === 'fragments') {
        if (length === UNDEFINED_LENGTH) throw malformed('encapsulated Pixel Data fragment of undefined length', pos);
        if (valuePos + length > f.limit) throw malformed(`fragment length ${length} runs past the end of its enclosing item`, pos);
        this.src.skip(8);
        this.options.budget.charge(ENTRY_OVERHEAD, pos);
        if (!f.sawOffsetTable) {
          // The first item is always the Basic Offset Table, possibly empty (PS3.5 A.4).
          f.sawOffsetTable = true;
          if (length % 4 !== 0) throw malformed(`Basic Offset Table length ${length} is not a multiple of 4`, pos);
          this.options.budget.charge(length * 2, pos); // a JS number per 4-byte entry
          this.pendingOffsetTable = length;
        } else {
          f.pixels.fragments.push({ offset: valuePos, length });
          this.skipRemaining = length;
        }
        return;
      }
      throw malformed('item outside a sequence', pos);
    }
    if (tag === Tags.ItemDelimitationItem) {
      // A non-zero length in a delimiter is tolerated and ignored: it has no value (PS3.5 7.5.2).
      if (f.kind === 'dataset' && f.delimited) {
        this.src.skip(8);
        this.pop();
        return;
      }
      throw malformed('Item Delimitation Item outside an undefined-length item', pos);
    }
    if (tag === Tags.SequenceDelimitationItem) {
      if ((f.kind === 'sequence' && f.delimited) || (f.kind === 'fragments' && f.sawOffsetTable)) {
        this.src.skip(8);
        this.pop();
        return;
      }
      throw malformed(
        f.kind === 'fragments'
          ? 'encapsulated Pixel Data without a Basic Offset Table item'
          : 'Sequence Delimitation Item outside an undefined-length sequence',
        pos,
      );
    }
    throw malformed(`unknown item tag ${describeTag(tag)}`, pos);
  }

  private readOffsetTable(): void {
    const f = this.frame as FragmentsFrame;
    const bytes = this.src.take(this.pendingOffsetTable);
    this.pendingOffsetTable = -1;
    const table = f.pixels.basicOffsetTable;
    for (let o = 0; o < bytes.length; o += 4) table.push(u32(bytes, o, f.littleEndian));
  }

  private push(frame: Frame): void {
    if (frame.kind === 'sequence' && ++this.sequenceDepth > MAX_SEQUENCE_DEPTH) {
      throw malformed(`sequences nested more than ${MAX_SEQUENCE_DEPTH} deep`, this.src.position);
    }
    this.stack.push(frame);
    this.frame = frame;
  }

  private pop(): void {
    if (this.stack.pop()!.kind === 'sequence') this.sequenceDepth--;
    this.frame = this.stack[this.stack.length - 1];
  }
}
