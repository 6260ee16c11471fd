/** Injection tokens of the storage layer. */
export const DEFAULT_STORE = Symbol('DEFAULT_STORE');
