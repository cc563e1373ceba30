import { GatewayError } from '../../../gateway/src/common/errors';
import { trackFaces } from '../../../gateway/src/face/face-track';
import { face, FakeFaceDetector } from './face-fakes';

const W = 200;
const H = 160;
/** frames whose first byte is their index, so the fake can tell which frame it got */
const frames = (n: number) => Array.from({ length: n }, (_, i) => new Uint8Array(W * H * 3).fill(i));
const opts = { pads: [0, 10, 0, 0] as [number, number, number, number], smooth: false, maxDetections: 50 };

describe(trackFaces.name, () => {
  it('should pick the largest face, snap it outwards and add the pads', async () => {
    const det = new FakeFaceDetector().answer([face(10, 10, 30, 30, 0.99), face(50.5, 40.2, 120.7, 130.1, 0.7)]);
    const res = await trackFaces(frames(1), W, H, det, opts);
    expect(res.boxes).toEqual([{ x1: 50, y1: 40, x2: 121, y2: 141 }]);
    expect(res.detections).toHaveLength(1);
    expect(det.calls).toEqual([{ width: W, height: H, firstByte: 0 }]);
  });

  it('should clamp a detection that pokes out of the frame', async () => {
    const det = new FakeFaceDetector().answer([face(-8, -3, 60, 158)]);
    const res = await trackFaces(frames(1), W, H, det, opts);
    expect(res.boxes[0]).toEqual({ x1: 0, y1: 0, x2: 60, y2: H });
  });

  it('should throw NO_FACE_FOUND when no frame has a face', async () => {
    const det = new FakeFaceDetector().answerWith(() => []);
    await expect(trackFaces(frames(3), W, H, det, opts)).rejects.toMatchObject({ code: 'NO_FACE_FOUND' });
    expect(det.calls).toHaveLength(3);
  });

  it('should leave frames without the chosen face without a box instead of borrowing one', async () => {
    const det = new FakeFaceDetector().answer([], [face(20, 20, 80, 80)], [], [face(24, 20, 84, 80)], [face(30, 22, 90, 82)]);
    const res = await trackFaces(frames(5), W, H, det, opts);
    expect(res.boxes.map((b) => b?.x1)).toEqual([undefined, 20, undefined, 24, 30]);
  });

  it('should follow the chosen face across frames and drop frames where only another face is', async () => {
    // two faces; the smaller one (index 1) is chosen, then only the larger one is seen
    const det = new FakeFaceDetector().answer(
      [face(0, 0, 60, 60), face(120, 40, 160, 80)],
      [face(2, 0, 62, 60), face(124, 40, 164, 80)],
      [face(4, 0, 64, 60)],
    );
    const res = await trackFaces(frames(3), W, H, det, { ...opts, faceIndex: 1 });
    expect(res.boxes.map((b) => b?.x1)).toEqual([120, 124, undefined]);
    expect(res.face).toMatchObject({ selected: 1, method: 'detector' });
    expect(res.face.faces.map((f) => f.box.x1)).toEqual([0, 120]);
  });

  it('should pick the face at facePoint', async () => {
    const det = new FakeFaceDetector().answer([face(0, 0, 60, 60), face(120, 40, 160, 80)]);
    const res = await trackFaces(frames(1), W, H, det, { ...opts, facePoint: [130, 50] });
    expect(res.boxes[0]).toEqual({ x1: 120, y1: 40, x2: 160, y2: 90 });
  });

  it('should pad below by a tenth of the box height by default', async () => {
    const det = new FakeFaceDetector().answer([face(50, 20, 110, 80)], [face(50, 20, 90, 140)]);
    const res = await trackFaces(frames(1), W, H, det, { ...opts, pads: undefined });
    expect(res.boxes[0]).toEqual({ x1: 50, y1: 20, x2: 110, y2: 86 });
    const tall = await trackFaces(frames(1), W, H, det, { ...opts, pads: undefined });
    expect(tall.boxes[0]).toEqual({ x1: 50, y1: 20, x2: 90, y2: 152 });
  });

  it('should detect every k-th frame plus the last and interpolate between them', async () => {
    const det = new FakeFaceDetector().answerWith((rgb) => [face(rgb[0] * 10, 20, rgb[0] * 10 + 40, 80)]);
    const res = await trackFaces(frames(7), W, H, det, { ...opts, maxDetections: 3 });
    expect(det.calls.map((c) => c.firstByte)).toEqual([0, 3, 6]);
    expect(res.boxes.map((b) => b!.x1)).toEqual([0, 10, 20, 30, 40, 50, 60]);
  });

  it('should smooth video boxes over 5 frames after padding', async () => {
    const xs = [0, 0, 0, 0, 0, 25];
    const det = new FakeFaceDetector().answerWith((rgb) => [face(xs[rgb[0]], 20, xs[rgb[0]] + 40, 80)]);
    const res = await trackFaces(frames(6), W, H, det, { ...opts, smooth: true });
    expect(res.boxes.map((b) => b!.x1)).toEqual([0, 5, 5, 5, 5, 5]);
    expect(res.boxes.every((b) => b!.y2 === 90)).toBe(true);
  });

  it('should stop with CANCELLED when the signal is aborted', async () => {
    const ac = new AbortController();
    const det = new FakeFaceDetector().answerWith(() => {
      ac.abort();
      return [face(0, 0, 50, 50)];
    });
    const err = await trackFaces(frames(3), W, H, det, { ...opts, signal: ac.signal }).catch((e) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err.code).toBe('CANCELLED');
    expect(det.calls).toHaveLength(1);
  });
});
