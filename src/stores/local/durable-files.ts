/**
 * File operations with the durability an archive needs: data fsynced before it is renamed into
 * place, and the directory fsynced after, so an acknowledged instance survives a crash or power cut.
 */
import { randomBytes } from 'node:crypto';
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
    await syncFile(tmp);
    await rename(tmp, to);
    await unlink(from).catch(() => undefined);
  }
  await fsyncDirectory(dir);
}

/**
 * Copies a file to its final place atomically, leaving the source as it is (it belongs to someone
 * else, e.g. the edge spool): copied to a temporary name beside the target, fsynced, renamed into
 * place, and the directory fsynced. Nothing is left behind when it fails.
 */
export async function copyIntoPlace(from: string, to: string, knownDirectories?: Set<string>): Promise<void> {
  const dir = dirname(to);
  if (!knownDirectories?.has(dir)) {
    await mkdir(dir, { recursive: true });
    knownDirectories?.add(dir);
  }
  const tmp = `${to}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    await copyFile(from, tmp, constants.COPYFILE_EXCL).catch(async (e: NodeJS.ErrnoException) => {
      // The folder was known but has since been removed (e.g. a study deleted): make it again.
      // (A missing source fails the second copy the same way.)
      if (e.code !== 'ENOENT' || !knownDirectories?.has(dir)) throw e;
      await mkdir(dir, { recursive: true });
      await copyFile(from, tmp, constants.COPYFILE_EXCL);
    });
    await syncFile(tmp);
    await rename(tmp, to);
  } catch (e) {
    await removeQuietly(tmp);
    throw e;
  }
  await fsyncDirectory(dir);
}

export async function removeQuietly(path: string): Promise<void> {
  await unlink(path).catch(() => undefined);
}

/** fsync of a file's data, by path. */
async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
