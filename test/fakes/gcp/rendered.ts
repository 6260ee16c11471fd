/**
 * Rendered instance (its first frame) and rendered frame (exactly one) on the fake DICOM store,
 * as consumer images: `image/jpeg` (Google's default, also for no Accept or `*\/*`; `quality=1..100`,
 * default 90 - Google's default quality is UNCONFIRMED) or `image/png`, from the fake's own
 * encoders. Native and RLE pixel data are rendered; an instance without Pixel Data or with other
 * compressed pixel data is 400 INVALID_ARGUMENT (the fake decodes no JPEG or JPEG 2000; Google
 * renders those too).
 */
import { ServerResponse } from 'node:http';
import { ArchiveBadRequest, ArchiveNotAcceptable } from '../dicom-archive/archive-errors';
import { DicomArchive } from '../dicom-archive/dicom-archive';
import { instanceFrames, parseFrameList } from '../dicom-archive/pixel-frames';
import { parseQueryString } from '../dicom-archive/qido-query';
import { TS, isNativeTransferSyntax } from '../dicom-archive/transfer-syntaxes';
import { renderedWishes } from './accept-negotiation';
import { DicomwebRoute } from './dicomweb-routes';
import { encodeJpeg } from './jpeg-encoder';
import { encodePng } from './png-encoder';
import { parseWindowParameter, renderFrame } from './pixel-rendering';
import { send } from './retrieve';

const DEFAULT_JPEG_QUALITY = 90;

export function answerRendered(res: ServerResponse, route: DicomwebRoute, accept: string | undefined, rawQuery: string, archive: DicomArchive): void {
  const instance = archive.instance(route.study!, route.series!, route.instance!);
  let frame = 1;
  if (route.tail !== undefined) {
    const numbers = parseFrameList(route.tail);
    if (numbers.length !== 1) throw new ArchiveBadRequest('a rendered frame request names exactly one frame');
    frame = numbers[0];
  }
  const params = new Map(parseQueryString(rawQuery));
  const window = parseWindowParameter(params.get('window'));
  const quality = params.has('quality') ? Number(params.get('quality')) : DEFAULT_JPEG_QUALITY;
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) throw new ArchiveBadRequest(`quality must be an integer from 1 to 100, not "${params.get('quality')}"`);
  const [type] = renderedWishes(accept);
  if (!type) throw new ArchiveNotAcceptable(`rendered images are image/jpeg or image/png, not ${accept}`);
  if (!instance.hasPixelData) throw new ArchiveBadRequest(`instance ${instance.sopInstanceUid} has no Pixel Data to render`);
  const stored = instance.transferSyntaxUid;
  if (!isNativeTransferSyntax(stored) && stored !== TS.RLELossless) throw new ArchiveBadRequest(`the fake renders native or RLE pixel data only, not ${stored}`);
  const [native] = instanceFrames(instance, archive.readBytes(instance), [frame], TS.ExplicitVRLittleEndian).frames;
  const image = renderFrame(instance.metadata, native, window);
  const encoded = type === 'image/png' ? encodePng(image.width, image.height, image.channels, image.pixels) : encodeJpeg(image.width, image.height, image.channels, image.pixels, quality);
  send(res, type, encoded);
}
