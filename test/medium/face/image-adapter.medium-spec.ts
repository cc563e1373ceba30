import sharp from 'sharp';
import { ImageAdapter } from '../../../gateway/src/face/image.adapter';

// sharp is imported here only to make unusual inputs; the product decodes through ImageAdapter alone.
describe(ImageAdapter.name, () => {
  const sut = new ImageAdapter();

  it('should flatten RGBA onto black and return packed RGB24', async () => {
    const rgba = Buffer.from([255, 0, 0, 255, 0, 255, 0, 0, 0, 0, 255, 128, 10, 20, 30, 255]);
    const png = await sharp(rgba, { raw: { width: 2, height: 2, channels: 4 } })
      .png()
      .toBuffer();
    const img = await sut.decode(png, 1000);
    expect([img.width, img.height, img.data.length]).toEqual([2, 2, 12]);
    expect(Array.from(img.data.subarray(0, 3))).toEqual([255, 0, 0]);
    expect(Array.from(img.data.subarray(3, 6))).toEqual([0, 0, 0]); // fully transparent → black
    expect(Math.abs(img.data[8] - 128)).toBeLessThanOrEqual(1); // half-transparent blue → half blue
    expect(Array.from(img.data.subarray(9, 12))).toEqual([10, 20, 30]);
  });

  it('should expand greyscale to three equal channels', async () => {
    const grey = await sharp(Buffer.from([0, 100, 200, 255]), { raw: { width: 2, height: 2, channels: 1 } })
      .png()
      .toBuffer();
    const img = await sut.decode(grey, 1000);
    expect(Array.from(img.data)).toEqual([0, 0, 0, 100, 100, 100, 200, 200, 200, 255, 255, 255]);
  });

  it('should apply the EXIF orientation (a rotated phone photo comes out upright)', async () => {
    // 4x2 stored, orientation 6 (rotate 90° clockwise to display) → 2x4 displayed
    const raw = Buffer.alloc(4 * 2 * 3, 50);
    for (const o of [0, 3, 12, 15]) raw.set([255, 0, 0], o); // stored left half (columns 0-1) red
    const jpeg = await sharp(raw, { raw: { width: 4, height: 2, channels: 3 } })
      .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const img = await sut.decode(jpeg, 1000);
    expect([img.width, img.height]).toEqual([2, 4]);
    // a clockwise quarter turn moves the stored left half to the top
    expect(img.data[0]).toBeGreaterThan(150);
    expect(img.data[(3 * 2 + 1) * 3]).toBeLessThan(150);
  });

  it('should decode WebP and round-trip its own PNG encoding exactly', async () => {
    const rgb = new Uint8Array(6 * 4 * 3).map((_, i) => (i * 37) & 255);
    const png = await sut.encodePng(rgb, 6, 4);
    expect(Buffer.from((await sut.decode(png, 1000)).data).equals(Buffer.from(rgb))).toBe(true);
    const webp = await sharp(Buffer.from(rgb), { raw: { width: 6, height: 4, channels: 3 } })
      .webp({ lossless: true })
      .toBuffer();
    expect(Buffer.from((await sut.decode(webp, 1000)).data).equals(Buffer.from(rgb))).toBe(true);
  });

  it('should classify errors: IMAGE_TOO_LARGE before decoding, IMAGE_UNDECODABLE for garbage', async () => {
    const png = await sut.encodePng(new Uint8Array(40 * 30 * 3), 40, 30);
    await expect(sut.decode(png, 40 * 30 - 1)).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE' });
    await expect(sut.decode(Buffer.from([0xff, 0xd8, 0xff, 0, 1, 2, 3]), 1000)).rejects.toMatchObject({ code: 'IMAGE_UNDECODABLE' });
  });
});
