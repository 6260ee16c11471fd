/**
 * File operations with the durability an archive needs: data fsynced before it is renamed into
 * place, and the directory fsynced after, so an acknowledged instance survives a crash or power cut.
 */
import { constants } from 'node:fs';
import { copyFile, mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function fsyncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Moves a fully written, fsynced file to its final place atomically. Across filesystems (a store
 * root on another disk) it copies to a temporary name beside the target, fsyncs, then renames.
 */
export async function moveIntoPlace(from: string, to: string, knownDirectories?: Set<string>): Promise<void> {
  const dir = dirname(to);
  if (!knownDirectories?.has(dir)) {
    await mkdir(dir, { recursive: true });
    knownDirectories?.add(dir);
  }
  try {
    await rename(from, to).catch(async (e: NodeJS.ErrnoException) => {
      // The folder was known but has since been removed (e.g. a study deleted): make it again.
      if (e.code !== 'ENOENT' || !knownDirectories?.has(dir)) throw e;
      await mkdir(dir, { recursive: true });
      await rename(from, to);
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    const tmp = `${to}.tmp-${process.pid}-${Date.now()}`;
    await copyFile(from, tmp);
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, to);
    await unlink(from).catch(() => undefined);
  }
  await fsyncDirectory(dir);
}

export async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}
