import sharp, { type Metadata } from 'sharp';
import { GatewayError } from '../common/errors';
import type { RgbImage } from './face-crop';

/**
 * The one owner of sharp: decodes avatar images to packed RGB24 (EXIF orientation applied, alpha
 * flattened onto black, any colour space converted to sRGB) and encodes PNGs for tests and tools.
 */
export class ImageAdapter {
  async decode(input: Buffer, maxPixels: number): Promise<RgbImage> {
    let meta: Metadata;
    try {
      meta = await sharp(input).metadata();
    } catch (err) {
      throw new GatewayError('IMAGE_UNDECODABLE', `the image cannot be read: ${(err as Error).message}`, undefined, { cause: err });
    }
    if (!meta.width || !meta.height) throw new GatewayError('IMAGE_UNDECODABLE', 'the image has no size');
    if (meta.width * meta.height > maxPixels) {
      throw new GatewayError('IMAGE_TOO_LARGE', `the image has ${meta.width}x${meta.height} pixels; the limit is ${maxPixels} pixels`);
    }
    try {
      const { data, info } = await sharp(input, { limitInputPixels: maxPixels, failOn: 'error' })
        .autoOrient()
        .flatten({ background: { r: 0, g: 0, b: 0 } })
        .toColourspace('srgb')
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      if (info.channels !== 3) throw new Error(`unexpected ${info.channels} channels`);
      return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
    } catch (err) {
      throw new GatewayError('IMAGE_UNDECODABLE', `the image cannot be decoded: ${(err as Error).message}`, undefined, { cause: err });
    }
  }

  /** Packed RGB24 → PNG bytes. */
  encodePng(rgb: Uint8Array, width: number, height: number): Promise<Buffer> {
    return sharp(rgb, { raw: { width, height, channels: 3 } })
      .png()
      .toBuffer();
  }

  /** Packed RGB24 → JPEG bytes. */
  encodeJpeg(rgb: Uint8Array, width: number, height: number, quality = 90): Promise<Buffer> {
    return sharp(rgb, { raw: { width, height, channels: 3 } })
      .jpeg({ quality })
      .toBuffer();
  }

  /**
   * The inspect picture: the (drawn-on) frame with the 96×96 model crop, enlarged `zoom`×, beside
   * it on the right (sharp composite); the canvas grows so both fit.
   */
  async encodeInspectPng(frame: Uint8Array, width: number, height: number, crop: Uint8Array, cropSize: number, zoom = 2): Promise<Buffer> {
    const side = cropSize * zoom;
    const margin = 8;
    const big = await sharp(crop, { raw: { width: cropSize, height: cropSize, channels: 3 } })
      .resize(side, side, { kernel: 'nearest' })
      .png()
      .toBuffer();
    return sharp(frame, { raw: { width, height, channels: 3 } })
      .extend({ right: side + 2 * margin, bottom: Math.max(0, side + 2 * margin - height), background: { r: 32, g: 32, b: 32 } })
      .composite([{ input: big, left: width + margin, top: margin }])
      .png()
      .toBuffer();
  }
}
