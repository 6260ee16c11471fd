/**
 * Person Name (PN) values in the DICOM JSON Model (PS3.18 F.2.2): one object per value with the
 * non-empty component groups (PS3.5 6.2.1) as strings.
 */

export interface PersonName {
  Alphabetic?: string;
  Ideographic?: string;
  Phonetic?: string;
}

const GROUPS = ['Alphabetic', 'Ideographic', 'Phonetic'] as const;

/**
 * One decoded PN value (already split from its siblings on '\' and without trailing padding) to its
 * JSON form. The '=' split happens after character set decoding: inside a JIS X 0208 character the
 * byte 03/13 is not a delimiter (see decodeIso2022).
 *
 * Trailing empty components and their '^' delimiters are dropped from each group, as PS3.5 6.2.1.1
 * allows writers to omit them ('Smith^John^^^' is 'Smith^John'); a group left empty is omitted, and
 * a value with no non-empty group is an empty value, written as null (F.2.5). This matches what
 * DCMTK's dcm2json writes. Groups after the third are not defined and are dropped.
 */
export function parsePersonName(value: string): PersonName | null {
  const groups = value.split('=');
  let pn: PersonName | null = null;
  for (let g = 0; g < GROUPS.length && g < groups.length; g++) {
    const group = trimTrailingDelimiters(groups[g]);
    if (group !== '') (pn ??= {})[GROUPS[g]] = group;
  }
  return pn;
}

function trimTrailingDelimiters(group: string): string {
  let e = group.length;
  while (e > 0) {
    const c = group.charCodeAt(e - 1);
    if (c !== 0x5e && c !== 0x20) break; // '^' or padding SPACE
    e--;
  }
  return e === group.length ? group : group.slice(0, e);
}

/** Back to the PS3.5 string form, e.g. for matching or display: 'Yamada^Tarou=山田^太郎=やまだ^たろう'.
 *  Trailing empty groups are left out. */
export function formatPersonName(pn: PersonName): string {
  if (pn.Phonetic !== undefined) return `${pn.Alphabetic ?? ''}=${pn.Ideographic ?? ''}=${pn.Phonetic}`;
  if (pn.Ideographic !== undefined) return `${pn.Alphabetic ?? ''}=${pn.Ideographic}`;
  return pn.Alphabetic ?? '';
}
