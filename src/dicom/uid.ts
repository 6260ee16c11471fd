/**
 * UID validation (PS3.5 9.1): at most 64 characters, dot-separated numeric components, no
 * component with a leading zero (except "0" itself). Anything that reaches a file path or a
 * query must pass this first.
 */
const UID_PATTERN = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;

export function isValidUid(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0 && value.length <= 64 && UID_PATTERN.test(value);
}

/** Strips the trailing NUL / space padding a UI value may carry in a data set. */
export function trimUid(value: string): string {
  return value.replace(/[\0 ]+$/, '');
}
