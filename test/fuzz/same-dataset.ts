/**
 * pydicom (Debian python3-pydicom, an independent reader) tells whether pairs of files hold the
 * same data set, File Meta Information and group lengths aside: for instances the gateway
 * re-encodes on retrieval (Implicit VR, big endian, data sets stored without File Meta). All pairs
 * go to one Python process; the recursion limit is raised because the store holds sequences as
 * deep as the parser allows, and pydicom reads them recursively.
 */
import { execFileSync } from 'node:child_process';

const SCRIPT = String.raw`
import sys, json
import pydicom
sys.setrecursionlimit(200000)

WORD = {'OW': 2, 'OF': 4, 'OL': 4, 'OD': 8, 'OV': 8}

def little(ds):
    return ds.is_little_endian if ds.is_little_endian is not None else True

def swapped(value, size):
    b = bytes(value)
    return b''.join(b[i:i + size][::-1] for i in range(0, len(b), size))

def elements(ds):
    return {int(e.tag): e for e in ds if e.tag.group != 2 and e.tag.element != 0}

def differ(a, b, path, orders):
    ea, eb = elements(a), elements(b)
    for t in sorted(set(ea) ^ set(eb)):
        return f"{path}{t:08X}: only in {'the stored file' if t in ea else 'the answer'}"
    for t in sorted(ea):
        x, y = ea[t], eb[t]
        if x.VR == 'SQ' or y.VR == 'SQ':
            if x.VR != y.VR or len(x.value) != len(y.value):
                return f"{path}{t:08X}: sequence differs"
            for i, (ia, ib) in enumerate(zip(x.value, y.value)):
                d = differ(ia, ib, f"{path}{t:08X}/{i}/", orders)
                if d:
                    return d
        elif x.VR in WORD and orders[0] != orders[1] and isinstance(x.value, bytes):
            if swapped(x.value, WORD[x.VR]) != bytes(y.value):
                return f"{path}{t:08X}: {x.VR} values differ (byte order considered)"
        elif x.value != y.value:
            return f"{path}{t:08X}: {str(x.value)[:60]!r} != {str(y.value)[:60]!r}"
    return None

out = []
for stored, answer in json.loads(sys.stdin.read()):
    try:
        a, b = pydicom.dcmread(stored, force=True), pydicom.dcmread(answer, force=True)
        out.append(differ(a, b, '', (little(a), little(b))))
    except Exception as e:
        out.append(f"pydicom cannot read them: {type(e).__name__}: {str(e)[:200]}")
print(json.dumps(out))
`;

/** For each [stored, answer] pair: undefined when they hold the same data set, else the first difference. */
export function sameDatasets(pairs: [string, string][]): (string | undefined)[] {
  if (pairs.length === 0) return [];
  const out = execFileSync('/usr/bin/python3', ['-c', SCRIPT], { input: JSON.stringify(pairs), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return (JSON.parse(out) as (string | null)[]).map((d) => d ?? undefined);
}
