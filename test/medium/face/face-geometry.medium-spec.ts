import sharp, { type Sharp } from 'sharp';
import { FaceApiDetector } from '../../../gateway/src/face/face-detector';
import { trackFaces, type TrackResult } from '../../../gateway/src/face/face-track';
import type { FaceBox } from '../../../gateway/src/face/face.types';
import { ASTRONAUT } from '../../helpers/media';

/** The portrait scaled by `scale` (optionally a part of it first) and pasted at (left, top) on a black canvas. */
interface Placement {
  name: string;
  scale: number;
  canvas: [number, number];
  at: [number, number];
  part?: { left: number; top: number; width: number; height: number };
}

const PLACEMENTS: Placement[] = [
  { name: 'native 512²', scale: 1, canvas: [512, 512], at: [0, 0] },
  { name: 'in a 1024² canvas', scale: 1, canvas: [1024, 1024], at: [300, 200] },
  { name: 'in a 2048² canvas', scale: 1, canvas: [2048, 2048], at: [1200, 900] },
  { name: 'scaled 2×', scale: 2, canvas: [1024, 1024], at: [0, 0] },
  { name: 'scaled ½ into 1920×1080', scale: 0.5, canvas: [1920, 1080], at: [800, 400] },
  { name: 'scaled ½ near a corner of 1280×720', scale: 0.5, canvas: [1280, 720], at: [1000, 440] },
  { name: 'a 60 px face', scale: 0.55, canvas: [1280, 720], at: [100, 300] },
  {
    name: 'a 600 px face (part of the portrait ×5)',
    scale: 5,
    canvas: [1400, 1400],
    at: [0, 0],
    part: { left: 130, top: 30, width: 260, height: 260 },
  },
];

async function place(p: Placement): Promise<{ rgb: Uint8Array; width: number; height: number }> {
  let img = sharp(ASTRONAUT).removeAlpha();
  if (p.part) img = img.extract(p.part);
  const meta = await img.toBuffer({ resolveWithObject: true });
  const scaled = await sharp(meta.data)
    .resize(Math.round(meta.info.width * p.scale), Math.round(meta.info.height * p.scale))
    .toBuffer();
  const { data, info } = await sharp({ create: { width: p.canvas[0], height: p.canvas[1], channels: 3, background: { r: 0, g: 0, b: 0 } } })
    .composite([{ input: scaled, left: p.at[0], top: p.at[1] }])
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { rgb: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

/** A frame box → portrait coordinates. */
function toPortrait(b: FaceBox, p: Placement): FaceBox {
  const ox = p.at[0] - (p.part?.left ?? 0) * p.scale;
  const oy = p.at[1] - (p.part?.top ?? 0) * p.scale;
  return { x1: (b.x1 - ox) / p.scale, y1: (b.y1 - oy) / p.scale, x2: (b.x2 - ox) / p.scale, y2: (b.y2 - oy) / p.scale };
}

/** The worst spread of any edge across boxes, as a share of their mean height. */
function worstEdgeSpread(boxes: FaceBox[]): number {
  const h = boxes.reduce((s, b) => s + (b.y2 - b.y1), 0) / boxes.length;
  const edges: (keyof FaceBox)[] = ['x1', 'y1', 'x2', 'y2'];
  return Math.max(...edges.map((e) => (Math.max(...boxes.map((b) => b[e])) - Math.min(...boxes.map((b) => b[e]))) / h));
}

const once = { smooth: false, maxDetections: 1 };

describe('face boxes from landmarks (real face-api)', () => {
  const detector = new FaceApiDetector();
  const results = new Map<string, TrackResult>();
  afterAll(() => detector.close());

  beforeAll(async () => {
    for (const p of PLACEMENTS) {
      const f = await place(p);
      results.set(p.name, await trackFaces([f.rgb], f.width, f.height, detector, once));
    }
  });

  it('should build every box from landmarks, at every size and place', () => {
    for (const p of PLACEMENTS) expect([p.name, results.get(p.name)!.face.method]).toEqual([p.name, 'landmarks']);
  });

  it('should put every edge, mapped back to the portrait, within 5 % of the box height of the others', () => {
    const boxes = PLACEMENTS.map((p) => toPortrait(results.get(p.name)!.face.box!, p));
    expect(worstEdgeSpread(boxes)).toBeLessThan(0.05);
    // the faces really span 60–600 px
    const heights = PLACEMENTS.map((p) => results.get(p.name)!.face.box!.y2 - results.get(p.name)!.face.box!.y1);
    expect(Math.min(...heights)).toBeLessThan(75);
    expect(Math.max(...heights)).toBeGreaterThan(550);
  });

  it('should keep the chin inside the padded box and the mouth corners in the lower half of the crop', () => {
    for (const p of PLACEMENTS) {
      const r = results.get(p.name)!;
      const padded = r.boxes[0]!;
      const chin = r.face.box!.y2;
      expect([p.name, chin > padded.y1 && chin < padded.y2]).toEqual([p.name, true]);
      for (const m of [r.face.landmarks!.mouthLeft, r.face.landmarks!.mouthRight]) {
        const v = (m.y - padded.y1) / (padded.y2 - padded.y1);
        const u = (m.x - padded.x1) / (padded.x2 - padded.x1);
        expect([p.name, v > 0.5 && v < 0.95, u > 0 && u < 1]).toEqual([p.name, true, true]);
      }
    }
  });
});

describe('several faces and turned faces (real face-api)', () => {
  const detector = new FaceApiDetector();
  afterAll(() => detector.close());

  async function raw(img: Sharp): Promise<{ rgb: Uint8Array; width: number; height: number }> {
    const { data, info } = await img.removeAlpha().raw().toBuffer({ resolveWithObject: true });
    return { rgb: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  }

  it('should default to the larger of two faces and take the other at facePoint', async () => {
    // the portrait on the left, a 0.6× copy on the right
    const small = await sharp(ASTRONAUT).removeAlpha().resize(307, 307).toBuffer();
    const f = await raw(
      sharp({ create: { width: 900, height: 512, channels: 3, background: { r: 0, g: 0, b: 0 } } }).composite([
        { input: await sharp(ASTRONAUT).removeAlpha().toBuffer(), left: 0, top: 0 },
        { input: small, left: 560, top: 100 },
      ]),
    );
    const byDefault = await trackFaces([f.rgb], f.width, f.height, detector, once);
    expect(byDefault.face.faces.length).toBeGreaterThanOrEqual(2);
    expect(byDefault.face.selected).toBe(0);
    expect(byDefault.face.box!.x2).toBeLessThan(512); // the big face
    const other = byDefault.face.faces.findIndex((x) => x.box.x1 > 512);
    const c = byDefault.face.faces[other].box;
    const picked = await trackFaces([f.rgb], f.width, f.height, detector, {
      ...once,
      facePoint: [Math.round((c.x1 + c.x2) / 2), Math.round((c.y1 + c.y2) / 2)],
    });
    expect(picked.face.selected).toBe(other);
    expect(picked.face.method).toBe('landmarks');
    expect(picked.boxes[0]!.x1).toBeGreaterThan(512);
  });

  it('should keep working on a rotated and on a sheared (profile-ish) face', async () => {
    for (const img of [
      sharp(ASTRONAUT)
        .removeAlpha()
        .rotate(20, { background: { r: 0, g: 0, b: 0 } }),
      sharp(ASTRONAUT)
        .removeAlpha()
        .affine([1, 0.3, 0, 1], { background: { r: 0, g: 0, b: 0 } }),
    ]) {
      const f = await raw(img);
      const r = await trackFaces([f.rgb], f.width, f.height, detector, once);
      expect(r.boxes[0]).toBeDefined();
      const b = r.boxes[0]!;
      // the box still holds the face: the mouth corners are inside, in its lower half
      for (const m of r.face.landmarks ? [r.face.landmarks.mouthLeft, r.face.landmarks.mouthRight] : []) {
        expect(m.x > b.x1 && m.x < b.x2 && m.y > (b.y1 + b.y2) / 2 && m.y < b.y2).toBe(true);
      }
    }
  });
});
