import type { FaceBox, FacePoints5 } from './face.types';

type Rgb = [number, number, number];

/** Draws a rectangle outline (thickness t, clipped) into a packed RGB24 frame, in place. */
export function drawRect(rgb: Uint8Array, width: number, height: number, b: FaceBox, colour: Rgb, t = 2): void {
  const x1 = Math.max(0, Math.round(b.x1));
  const y1 = Math.max(0, Math.round(b.y1));
  const x2 = Math.min(width, Math.round(b.x2));
  const y2 = Math.min(height, Math.round(b.y2));
  for (let y = y1; y < y2; y++) {
    for (let x = x1; x < x2; x++) {
      if (x - x1 >= t && x2 - 1 - x >= t && y - y1 >= t && y2 - 1 - y >= t) continue;
      rgb.set(colour, (y * width + x) * 3);
    }
  }
}

/** Draws a filled square dot of radius r centred on (x, y), clipped. */
export function drawDot(rgb: Uint8Array, width: number, height: number, x: number, y: number, colour: Rgb, r = 3): void {
  const cx = Math.round(x);
  const cy = Math.round(y);
  for (let yy = Math.max(0, cy - r); yy <= Math.min(height - 1, cy + r); yy++) {
    for (let xx = Math.max(0, cx - r); xx <= Math.min(width - 1, cx + r); xx++) rgb.set(colour, (yy * width + xx) * 3);
  }
}

/**
 * The inspect picture's frame layer: every detected face in grey, the padded box used in green,
 * the 5 landmarks in red, the model's masked half line (the lower half is what Wav2Lip redraws) in yellow.
 */
export function drawInspection(
  frame: Uint8Array,
  width: number,
  height: number,
  o: { faces: FaceBox[]; box: FaceBox; landmarks?: FacePoints5 },
): Uint8Array {
  const out = Uint8Array.from(frame);
  const t = Math.max(1, Math.round(Math.max(width, height) / 400));
  for (const f of o.faces) drawRect(out, width, height, f, [160, 160, 160], t);
  drawRect(out, width, height, o.box, [0, 255, 0], t);
  const mid = Math.round((o.box.y1 + o.box.y2) / 2);
  drawRect(out, width, height, { x1: o.box.x1, x2: o.box.x2, y1: mid, y2: mid + t }, [255, 220, 0], t);
  if (o.landmarks)
    for (const p of Object.values(o.landmarks) as FacePoints5[keyof FacePoints5][])
      drawDot(out, width, height, p.x, p.y, [255, 0, 0], t + 1);
  return out;
}
