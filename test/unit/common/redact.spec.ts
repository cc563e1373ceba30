import { redactPaths } from '../../../gateway/src/common/redact';

describe(redactPaths.name, () => {
  it('should replace absolute paths (also file: URLs) and keep the rest of the message', () => {
    expect(redactPaths('cannot load model /srv/models/wav2lip/1/model.onnx: bad magic')).toBe('cannot load model <path>: bad magic');
    expect(redactPaths('cannot write "/var/lib/x/out.mp4": /var/lib/x is not a writable directory')).toBe(
      'cannot write "<path>": <path> is not a writable directory',
    );
    expect(redactPaths('Error opening input file:/tmp/jobs/abc/audio.mp3.')).toBe('Error opening input <path>');
  });

  it('should leave messages without paths alone (ratios, sizes, URLs without a path)', () => {
    for (const text of [
      'the audio file is 3.0 s long; the limit is 2 s',
      'frame 3/5 of 640x360',
      'Triton at localhost:8001 is not ready',
      'a / b',
    ]) {
      expect(redactPaths(text)).toBe(text);
    }
  });
});
