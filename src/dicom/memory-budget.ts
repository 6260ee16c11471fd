/**
 * What one instance may keep in memory: value bytes plus a fixed bookkeeping cost per entry.
 * A defence against lying lengths and floods of tiny elements (maxInMemoryBytes).
 */
import { InvalidDicom } from './errors';

/** Bookkeeping cost charged per element, item and fragment, so that a flood of tiny elements is
 *  bounded by maxInMemoryBytes just like one lying length is. */
export const ENTRY_OVERHEAD = 64;

/** Total size of what one instance keeps in memory (values + bookkeeping). */
export class MemoryBudget {
  used = 0;
  constructor(readonly max: number) {}

  charge(bytes: number, offset: number): void {
    this.used += bytes;
    if (this.used > this.max) {
      throw new InvalidDicom('too-large', `values kept in memory exceed ${this.max} bytes`, offset);
    }
  }
}
