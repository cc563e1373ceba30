import { FaceDetector } from '../../../gateway/src/face/face-detector';
import { BROW_SHARE, landmarkBox, plausibleLandmarks, relativePads, squareRegion } from '../../../gateway/src/face/face-geometry';
import { continueTrack, refineFace } from '../../../gateway/src/face/face-refine';
import type { DetectedFace, FaceBox, Point } from '../../../gateway/src/face/face.types';
import { face } from './face-fakes';

/** 68 points of a frontal face filling an s×s image (brows at 0.3 s, chin at 0.85 s, jaw 0.15–0.85 s). */
function template(s: number): Point[] {
  const p: Point[] = Array.from({ length: 68 }, () => ({ x: 0.5 * s, y: 0.55 * s }));
  for (let i = 0; i <= 16; i++) {
    const a = Math.PI * (i / 16);
    p[i] = { x: 0.5 * s - 0.35 * s * Math.cos(a), y: 0.45 * s + 0.4 * s * Math.sin(a) };
  }
  p[8] = { x: 0.5 * s, y: 0.85 * s };
  for (let i = 17; i <= 26; i++) p[i] = { x: (0.2 + (0.6 * (i - 17)) / 9) * s, y: 0.3 * s };
  p[30] = { x: 0.5 * s, y: 0.6 * s };
  p[48] = { x: 0.38 * s, y: 0.72 * s };
  p[54] = { x: 0.62 * s, y: 0.72 * s };
  return p;
}

/** A detector whose landmarks and second pass are scripted (or fail), recording what it was asked. */
class ChainDetector extends FaceDetector {
  readonly id = 'chain';
  readonly detectCalls: [number, number][] = [];
  readonly landmarkCalls: [number, number][] = [];
  constructor(
    private readonly lm: 'ok' | 'throw' | 'garbage',
    private readonly second: DetectedFace[] | 'throw',
  ) {
    super();
  }
  async detect(_rgb: Uint8Array, w: number, h: number): Promise<DetectedFace[]> {
    this.detectCalls.push([w, h]);
    if (this.second === 'throw') throw new Error('second pass unavailable');
    return this.second;
  }
  async landmarks(_rgb: Uint8Array, w: number, h: number): Promise<Point[]> {
    this.landmarkCalls.push([w, h]);
    if (this.lm === 'throw') throw new Error('landmark model unavailable');
    if (this.lm === 'garbage') return Array.from({ length: 68 }, () => ({ x: 1, y: 1 }));
    return template(w);
  }
}

const W = 400;
const H = 300;
const frame = new Uint8Array(W * H * 3);
const det: FaceBox = { x1: 150, y1: 100, x2: 250, y2: 200 };

describe(refineFace.name, () => {
  it('should build the box from landmarks (two passes) when they are plausible', async () => {
    const d = new ChainDetector('ok', 'throw');
    const r = await refineFace(d, frame, W, H, det);
    expect(r.method).toBe('landmarks');
    expect(d.detectCalls).toEqual([]);
    expect(d.landmarkCalls).toHaveLength(2);
    expect(d.landmarkCalls[0]).toEqual([130, 130]); // 1.3 × the 100 px detection
    // the bottom edge is the chin, the top the brow line minus BROW_SHARE of brow-to-chin
    const chin = r.landmarks!.mouthLeft.y; // mouth corners lie between the brows and the chin
    expect(r.box.y2).toBeGreaterThan(chin);
    expect(r.box.y1).toBeLessThan(r.box.y2);
    expect(r.landmarks!.mouthLeft.x).toBeLessThan(r.landmarks!.mouthRight.x);
  });

  it('should fall back to a second SSD pass on a 2.5× region when landmarks fail', async () => {
    // the second pass sees a 250×250 region starting at (75, 25); its face maps back into the frame
    const d = new ChainDetector('throw', [face(70, 70, 180, 185)]);
    const r = await refineFace(d, frame, W, H, det);
    expect(d.detectCalls).toEqual([[250, 250]]);
    expect(r).toEqual({ method: 'second-pass', box: { x1: 145, y1: 95, x2: 255, y2: 210 } });
  });

  it('should treat implausible landmarks as a failure', async () => {
    const d = new ChainDetector('garbage', [face(70, 70, 180, 185)]);
    expect((await refineFace(d, frame, W, H, det)).method).toBe('second-pass');
  });

  it('should keep the first box when the second pass fails or finds only another face', async () => {
    expect(await refineFace(new ChainDetector('throw', 'throw'), frame, W, H, det)).toEqual({ method: 'detector', box: det });
    const elsewhere = new ChainDetector('throw', [face(0, 0, 30, 30)]);
    expect(await refineFace(elsewhere, frame, W, H, det)).toEqual({ method: 'detector', box: det });
  });

  it('should leave a detector without landmarks alone (no extra detection)', async () => {
    const plain = new (class extends FaceDetector {
      readonly id = 'plain';
      detect(): Promise<DetectedFace[]> {
        throw new Error('unexpected detect');
      }
    })();
    expect(await refineFace(plain, frame, W, H, det)).toEqual({ method: 'detector', box: det });
  });
});

describe('face geometry', () => {
  it('should put the bottom at the chin and the top BROW_SHARE of brow-to-chin above the brows', () => {
    const b = landmarkBox(template(100));
    expect(b.y2).toBeCloseTo(85);
    expect(b.y1).toBeCloseTo(30 - BROW_SHARE * 55);
    expect([b.x1, b.x2]).toEqual([15, 85]);
  });

  it('should accept a face inside the detection and refuse points that are not a face', () => {
    expect(plausibleLandmarks(template(100), { x1: 10, y1: 10, x2: 90, y2: 90 })).toBe(true);
    expect(plausibleLandmarks(template(100), { x1: 200, y1: 10, x2: 290, y2: 90 })).toBe(false);
    expect(plausibleLandmarks(template(100).slice(0, 60), { x1: 10, y1: 10, x2: 90, y2: 90 })).toBe(false);
  });

  it('should clip square regions to the frame and scale pads with the box', () => {
    expect(squareRegion({ x1: 0, y1: 0, x2: 40, y2: 20 }, 2, 100, 100)).toEqual({ x: 0, y: 0, width: 60, height: 50 });
    expect(relativePads({ x1: 0, y1: 0, x2: 50, y2: 60 })).toEqual([0, 6, 0, 0]);
    expect(relativePads({ x1: 0, y1: 0, x2: 500, y2: 600 })).toEqual([0, 60, 0, 0]);
  });

  it('should continue a track by overlap or a near centre, never with a distant face', () => {
    const prev = { x1: 100, y1: 100, x2: 160, y2: 160 };
    expect(continueTrack([face(300, 100, 360, 160), face(110, 104, 170, 164)], prev)?.box.x1).toBe(110);
    expect(continueTrack([face(300, 100, 360, 160)], prev)).toBeUndefined();
  });
});
