/**
 * Folding used for case- and accent-insensitive matching (Patient Name, fuzzy matching):
 * canonical decomposition, combining marks removed, upper case. "Müller" -> "MULLER".
 */
export function foldText(value: string): string {
  return value.normalize('NFKD').replace(/\p{M}+/gu, '').toUpperCase();
}
