import type { ModelProvenance } from '../inference/model-provenance';

/** IPTC's digital source type for media made by a trained model (the term C2PA uses too). */
export const IPTC_TRAINED_ALGORITHMIC_MEDIA = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';

/**
 * The metadata tags every MP4 carries (ffmpeg `-metadata`; custom keys need `-movflags
 * use_metadata_tags`, see encoder-args.ts): a mark that the video is synthetic, and which model
 * made it under which licence. Names are documented in the README ("Output metadata").
 */
export function outputMetadata(model: ModelProvenance): Record<string, string> {
  const tags: Record<string, string> = {
    comment: `Synthetic (AI-generated) video: lip-synced by lipsync-gateway with the model ${model.name} (licence: ${model.licence}).`,
    ai_generated: 'true',
    digital_source_type: IPTC_TRAINED_ALGORITHMIC_MEDIA,
    lipsync_model: model.name,
    lipsync_model_origin: model.origin,
    lipsync_model_licence: model.licence,
  };
  if (model.precision) tags.lipsync_model_precision = model.precision;
  if (model.checkpointSha256) tags.lipsync_model_sha256 = model.checkpointSha256;
  return tags;
}

/** `-metadata key=value` pairs; values are one line (ffmpeg would cut at a newline anyway). */
export function metadataArgs(tags: Record<string, string> | undefined): string[] {
  if (!tags) return [];
  const args: string[] = [];
  for (const [k, v] of Object.entries(tags)) {
    if (!/^[a-z][a-z0-9_]*$/.test(k)) throw new RangeError(`metadata key must be lowercase letters, digits and _, got '${k}'`);
    args.push('-metadata', `${k}=${v.replace(/[\r\n]+/g, ' ')}`);
  }
  return args;
}
