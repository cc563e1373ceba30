import { LICENCE_TEXT } from '../../../gateway/src/inference/model-provenance';
import { pinnedFormatOf } from '../../../gateway/src/media/demuxer-allowlist';
import { buildEncodeArgs } from '../../../gateway/src/render/encoder-args';
import { IPTC_TRAINED_ALGORITHMIC_MEDIA, metadataArgs, outputMetadata } from '../../../gateway/src/render/output-metadata';

const demo = { name: 'wav2lip-demo-seed0', origin: 'demo' as const, licence: LICENCE_TEXT.demo, precision: 'fp32' };
const audioFormat = pinnedFormatOf({ kind: 'audio', format: 'wav' })!;
const base = { width: 64, height: 64, fps: 25, audioPath: '/a.wav', audioFormat, outPath: '/o.mp4', encoder: 'libx264' as const };

describe(outputMetadata.name, () => {
  it('should mark the video synthetic and name the model, its origin, licence and precision', () => {
    const tags = outputMetadata(demo);
    expect(tags).toMatchObject({
      ai_generated: 'true',
      digital_source_type: IPTC_TRAINED_ALGORITHMIC_MEDIA,
      lipsync_model: 'wav2lip-demo-seed0',
      lipsync_model_origin: 'demo',
      lipsync_model_licence: LICENCE_TEXT.demo,
      lipsync_model_precision: 'fp32',
    });
    expect(tags.comment).toMatch(/^Synthetic \(AI-generated\) video/);
    expect(tags.comment).toContain('wav2lip-demo-seed0');
  });

  it('should turn tags into -metadata pairs on one line each, refusing odd keys', () => {
    expect(metadataArgs({ a_b: 'x\ny' })).toEqual(['-metadata', 'a_b=x y']);
    expect(metadataArgs(undefined)).toEqual([]);
    expect(() => metadataArgs({ 'bad key': 'v' })).toThrow(RangeError);
  });

  it('should put the tags into both MP4 kinds with use_metadata_tags (custom keys need it)', () => {
    const flat = buildEncodeArgs({ ...base, metadata: outputMetadata(demo) });
    expect(flat).toEqual(expect.arrayContaining(['-metadata', 'lipsync_model=wav2lip-demo-seed0', '-metadata', 'ai_generated=true']));
    expect(flat[flat.indexOf('-movflags') + 1]).toBe('+faststart+use_metadata_tags');
    const frag = buildEncodeArgs({ ...base, fragmented: true, metadata: { ai_generated: 'true' } });
    expect(frag[frag.indexOf('-movflags') + 1]).toBe('frag_keyframe+empty_moov+default_base_moof+use_metadata_tags');
    // no tags: the muxer flags stay as they were
    expect(buildEncodeArgs(base)[buildEncodeArgs(base).indexOf('-movflags') + 1]).toBe('+faststart');
  });
});
