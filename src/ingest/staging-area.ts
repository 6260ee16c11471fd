/**
 * The folder where uploads are written while they arrive. Nothing in it is ever indexed or
 * served: a file leaves it only by an atomic rename once complete, so whatever is found here at
 * start is a leftover of a crash and is deleted.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export class StagingArea {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** Deletes every leftover; returns how many there were. Call once at start. */
  sweep(): number {
    const names = readdirSync(this.dir);
    for (const name of names) rmSync(join(this.dir, name), { force: true, recursive: true });
    return names.length;
  }

  newFilePath(): string {
    return join(this.dir, `${randomUUID()}.part`);
  }
}

