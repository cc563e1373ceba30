import { splitBatch } from '../../../gateway/src/inference/batch-check';
import { FACE_ELEMENTS, MEL_WINDOW_ELEMENTS } from '../../../gateway/src/inference/model-contract';

/** frame i's mel window and face crop are filled with i, so chunk boundaries show */
function numbered(n: number) {
  const mel = new Float32Array(n * MEL_WINDOW_ELEMENTS);
  const face = new Uint8Array(n * FACE_ELEMENTS);
  for (let i = 0; i < n; i++) {
    mel.fill(i, i * MEL_WINDOW_ELEMENTS, (i + 1) * MEL_WINDOW_ELEMENTS);
    face.fill(i, i * FACE_ELEMENTS, (i + 1) * FACE_ELEMENTS);
  }
  return { n, mel, face };
}

describe(splitBatch.name, () => {
  it('should cut consecutive chunks of at most max frames, in frame order', () => {
    const chunks = splitBatch(numbered(7), 3);
    expect(chunks.map((c) => c.n)).toEqual([3, 3, 1]);
    const firstFrames = chunks.map((c) => [c.mel[0], c.face[0], c.mel[c.mel.length - 1], c.face[c.face.length - 1]]);
    expect(firstFrames).toEqual([
      [0, 0, 2, 2],
      [3, 3, 5, 5],
      [6, 6, 6, 6],
    ]);
    chunks.forEach((c) => {
      expect(c.mel.length).toBe(c.n * MEL_WINDOW_ELEMENTS);
      expect(c.face.length).toBe(c.n * FACE_ELEMENTS);
    });
  });

  it('should return the batch as one chunk when it fits', () => {
    expect(splitBatch(numbered(3), 3).map((c) => c.n)).toEqual([3]);
  });

  it('should refuse a max that is not a positive integer', () => {
    expect(() => splitBatch(numbered(2), 0)).toThrow(RangeError);
  });
});
