/**
 * pydicom (Debian python3-pydicom, run with /usr/bin/python3) as an independent judge of what the
 * gateway answers: do two files hold the same data set (group 0002 and group lengths aside), the
 * same decoded pixels, and which bytes are the frames and bulk values of a file.
 */
import { execFileSync } from 'node:child_process';

const PYTHON = '/usr/bin/python3';

const SCRIPT = String.raw`
import sys, json, base64
import pydicom
from pydicom.encaps import generate_pixel_data_frame
import numpy as np

def load(path):
    return pydicom.dcmread(path, force=True)

SKIP = {0x7FE00001, 0x7FE00002}
PIXELS = {0x7FE00010, 0x7FE00008, 0x7FE00009}
WORD = {'OW': 2, 'US': 2, 'SS': 2, 'OF': 4, 'OL': 4, 'OD': 8, 'OV': 8}

def tags(ds):
    return {int(e.tag) for e in ds if e.tag.group != 2 and e.tag.element != 0 and int(e.tag) not in SKIP}

def compare(a, b, path, problems, top):
    ta, tb = tags(a), tags(b)
    for t in sorted(ta ^ tb):
        problems.append(f"{path}{t:08X}: only in {'first' if t in ta else 'second'}")
    for t in sorted(ta & tb):
        ea, eb = a[t], b[t]
        if top and t in PIXELS:
            continue
        if ea.VR == 'SQ' or eb.VR == 'SQ':
            if len(ea.value) != len(eb.value):
                problems.append(f"{path}{t:08X}: {len(ea.value)} items vs {len(eb.value)}")
                continue
            for i, (ia, ib) in enumerate(zip(ea.value, eb.value)):
                compare(ia, ib, f"{path}{t:08X}/{i}/", problems, False)
        elif ea.value != eb.value:
            problems.append(f"{path}{t:08X} {ea.VR}/{eb.VR}: {str(ea.value)[:60]!r} != {str(eb.value)[:60]!r}")

def little_endian(ds):
    return ds.is_little_endian if ds.is_little_endian is not None else True

def frames(ds):
    n = int(getattr(ds, 'NumberOfFrames', 1) or 1)
    if ds.file_meta.TransferSyntaxUID.is_compressed if 'TransferSyntaxUID' in getattr(ds, 'file_meta', {}) else False:
        return [bytes(f) for f in generate_pixel_data_frame(ds.PixelData, n)]
    raw = bytes(ds.PixelData)
    if not little_endian(ds) and ds['PixelData'].VR == 'OW':
        raw = np.frombuffer(raw, dtype='>u2').astype('<u2').tobytes()
    bits = ds.Rows * ds.Columns * getattr(ds, 'SamplesPerPixel', 1) * ds.BitsAllocated
    out = []
    for i in range(n):
        start, end = i * bits, (i + 1) * bits
        if start % 8 == 0 and end % 8 == 0:
            out.append(raw[start // 8:end // 8])
        else:
            bitsarr = np.unpackbits(np.frombuffer(raw, dtype=np.uint8), bitorder='little')[start:end]
            out.append(np.packbits(bitsarr, bitorder='little').tobytes())
    return out

def value(ds, path):
    parts = path.split('/')
    node = ds
    for k in range(0, len(parts) - 1, 2):
        node = node[int(parts[k], 16)].value[int(parts[k + 1])]
    elem = node[int(parts[-1], 16)]
    raw = bytes(elem.value)
    size = WORD.get(elem.VR, 1)
    if not little_endian(ds) and size > 1:
        raw = np.frombuffer(raw, dtype=f'>u{size}').astype(f'<u{size}').tobytes()
    return raw

def cmd_compare(a_path, b_path):
    a, b = load(a_path), load(b_path)
    problems = []
    compare(a, b, '', problems, True)
    pixels = None
    if 'PixelData' in a:
        try:
            pixels = bool(np.array_equal(a.pixel_array, b.pixel_array))
        except Exception as e:
            # No decoder here (e.g. 12-bit JPEG): then the stored codestreams must be identical.
            pixels = [bytes(f) for f in frames(a)] == [bytes(f) for f in frames(b)]
        if not pixels:
            problems.append('pixel data differ')
    ts = str(b.file_meta.TransferSyntaxUID) if 'TransferSyntaxUID' in getattr(b, 'file_meta', {}) else None
    return {'ok': not problems, 'pixelsEqual': pixels, 'problems': problems[:20], 'transferSyntax': ts}

def main():
    cmd = sys.argv[1]
    if cmd == 'compare':
        out = cmd_compare(sys.argv[2], sys.argv[3])
    elif cmd == 'frames':
        out = [base64.b64encode(f).decode() for f in frames(load(sys.argv[2]))]
    elif cmd == 'pixels':
        ds = load(sys.argv[2])
        arr = ds.pixel_array
        n = int(getattr(ds, 'NumberOfFrames', 1) or 1)
        per = [arr[i] for i in range(n)] if n > 1 else [arr]
        out = [base64.b64encode(np.ascontiguousarray(f).astype(f.dtype.newbyteorder('<')).tobytes()).decode() for f in per]
    elif cmd == 'value':
        out = base64.b64encode(value(load(sys.argv[2]), sys.argv[3])).decode()
    print(json.dumps(out))

main()
`;

function run<T>(args: string[]): T {
  const out = execFileSync(PYTHON, ['-c', SCRIPT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 });
  return JSON.parse(out) as T;
}

export interface Comparison {
  ok: boolean;
  pixelsEqual: boolean | null;
  problems: string[];
  transferSyntax: string | null;
}

/** Same data set (group 0002 and group lengths aside) and the same decoded pixels? */
export function pydicomCompare(first: string, second: string): Comparison {
  return run<Comparison>(['compare', first, second]);
}

/** Each frame's bytes as pydicom sees them: codestreams, or native pixels in little endian. */
export function pydicomFrames(path: string): Buffer[] {
  return run<string[]>(['frames', path]).map((b) => Buffer.from(b, 'base64'));
}

/** Each frame decoded by pydicom, as native little endian bytes (samples interleaved). */
export function pydicomPixels(path: string): Buffer[] {
  return run<string[]>(['pixels', path]).map((b) => Buffer.from(b, 'base64'));
}

/** A value's bytes in little endian, by tag path ("7FE00010", "00540016/0/00181074"). */
export function pydicomValue(path: string, tagPath: string): Buffer {
  return Buffer.from(run<string>(['value', path, tagPath]), 'base64');
}
