import { avatarFrameIndex } from '../../../gateway/src/face/frame-index';

describe(avatarFrameIndex.name, () => {
  const seq = (n: number, mode: 'loop' | 'pingpong', len: number) => Array.from({ length: len }, (_, i) => avatarFrameIndex(i, n, mode));

  it('should loop 0..n-1', () => {
    expect(seq(3, 'loop', 8)).toEqual([0, 1, 2, 0, 1, 2, 0, 1]);
  });
  it('should ping-pong without repeating the end frames', () => {
    expect(seq(3, 'pingpong', 9)).toEqual([0, 1, 2, 1, 0, 1, 2, 1, 0]);
    expect(seq(4, 'pingpong', 8)).toEqual([0, 1, 2, 3, 2, 1, 0, 1]);
  });
  it('should always give 0 for a single frame (images) in both modes', () => {
    expect(seq(1, 'loop', 4)).toEqual([0, 0, 0, 0]);
    expect(seq(1, 'pingpong', 4)).toEqual([0, 0, 0, 0]);
  });
  it('should alternate 0, 1 for two frames when ping-ponging', () => {
    expect(seq(2, 'pingpong', 5)).toEqual([0, 1, 0, 1, 0]);
  });
});
