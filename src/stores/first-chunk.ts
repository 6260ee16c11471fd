/**
 * The first chunk of a paused readable stream, without consuming the rest: undefined when it
 * ends empty, a rejection when it fails first. Listeners are removed whatever happens, so a later
 * error of the stream is never an unhandled rejection here.
 */
import { Readable } from 'node:stream';

export async function firstChunk(source: Readable): Promise<Buffer | undefined> {
  for (;;) {
    const chunk = source.read() as Buffer | null;
    if (chunk !== null) return chunk;
    if (source.readableEnded) return undefined;
    if (source.errored) throw source.errored;
    const ended = await new Promise<boolean>((resolve, reject) => {
      const done = (value: boolean, error?: Error) => {
        source.off('readable', onReadable);
        source.off('end', onEnd);
        source.off('error', onError);
        if (error) reject(error);
        else resolve(value);
      };
      const onReadable = () => done(false);
      const onEnd = () => done(true);
      const onError = (e: Error) => done(false, e);
      source.on('readable', onReadable);
      source.on('end', onEnd);
      source.on('error', onError);
    });
    if (ended) return undefined;
  }
}
