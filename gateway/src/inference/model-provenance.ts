import * as fs from 'fs';
import * as path from 'path';
import type { AppConfig } from '../config/config';
import published from './official-checkpoints.json';

/**
 * What the served model is and under which licence (issue 15 item 6). scripts/setup-model.sh
 * writes a stamp (`SOURCE`, `SOURCE.<variant>` for `model.<variant>.onnx`) beside the model: its
 * first line says how it was built (`checkpoint=… sha256=… bytes=…` or `random-seed=…`,
 * `exporter=…`, `precision=…`), its second line what it is (`name=… origin=… licence=…`). The
 * gateway trusts only the hash: it identifies the official checkpoints by their published sha256
 * (official-checkpoints.json) itself, whatever the stamp claims.
 */
export type ModelOrigin = 'official' | 'demo' | 'unknown' | 'fake';

export interface ModelProvenance {
  /** e.g. wav2lip_gan, wav2lip-demo-seed0, unknown */
  name: string;
  origin: ModelOrigin;
  /** the licence in words */
  licence: string;
  /** sha256 of the checkpoint the model was exported from (checkpoints only) */
  checkpointSha256?: string;
  /** numeric precision of the served graph from the stamp: fp32, fp16, int8 … (open for new ones) */
  precision?: string;
  /** why the origin is unknown */
  note?: string;
}

export interface OfficialCheckpoint {
  name: string;
  file: string;
  sha256: string;
  bytes: number;
}

export const OFFICIAL_CHECKPOINTS: readonly OfficialCheckpoint[] = published;

export const LICENCE_TEXT: Record<ModelOrigin, string> = {
  official: 'research/non-commercial use only (official Wav2Lip weights, trained on LRS2; commercial use needs a licence from the authors)',
  demo: 'demo model: seeded random weights, no trained weights and no third-party weight licence (the mouth motion is meaningless)',
  unknown: 'unknown: not identified as an official Wav2Lip checkpoint; check the licence of these weights yourself',
  fake: 'test backend: no model',
};

/** The licence ids the stamp's second line carries (no spaces, for the key=value format). */
export const LICENCE_ID: Record<ModelOrigin, string> = {
  official: 'research-non-commercial',
  demo: 'demo-random-weights',
  unknown: 'unknown',
  fake: 'none',
};

/** `key=value` tokens of a stamp (all lines; a later key wins). */
export function parseStamp(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const token of text.split(/\s+/)) {
    const eq = token.indexOf('=');
    if (eq > 0) out[token.slice(0, eq)] = token.slice(eq + 1);
  }
  return out;
}

/** Identifies the model from its stamp (undefined: no stamp found) against the table of published checkpoints. */
export function identifyModel(
  stamp: Record<string, string> | undefined,
  table: readonly OfficialCheckpoint[] = OFFICIAL_CHECKPOINTS,
): ModelProvenance {
  if (!stamp)
    return {
      name: 'unknown',
      origin: 'unknown',
      licence: LICENCE_TEXT.unknown,
      note: 'no model stamp (SOURCE) beside the model: build it with scripts/setup-model.sh',
    };
  const precision = stamp.precision;
  const withPrecision = (p: ModelProvenance): ModelProvenance => (precision ? { ...p, precision } : p);
  if (stamp['random-seed'] !== undefined) {
    return withPrecision({ name: `wav2lip-demo-seed${stamp['random-seed']}`, origin: 'demo', licence: LICENCE_TEXT.demo });
  }
  const sha = stamp.sha256?.toLowerCase();
  if (!sha)
    return withPrecision({
      name: 'unknown',
      origin: 'unknown',
      licence: LICENCE_TEXT.unknown,
      note: 'the model stamp names no checkpoint hash',
    });
  const hit = table.find((c) => c.sha256.toLowerCase() === sha);
  const bytes = stamp.bytes !== undefined ? Number(stamp.bytes) : undefined;
  if (hit && (bytes === undefined || bytes === hit.bytes)) {
    return withPrecision({ name: hit.name, origin: 'official', licence: LICENCE_TEXT.official, checkpointSha256: sha });
  }
  return withPrecision({
    name: 'unknown',
    origin: 'unknown',
    licence: LICENCE_TEXT.unknown,
    checkpointSha256: sha,
    note: 'the checkpoint hash is not one of the published Wav2Lip checkpoints',
  });
}

export const FAKE_MODEL: ModelProvenance = { name: 'fake', origin: 'fake', licence: LICENCE_TEXT.fake };

/** The stamp beside a model file: SOURCE for model.onnx, SOURCE.fp16 for model.fp16.onnx, and so on. */
export function stampPathFor(modelPath: string): string {
  const m = /^model\.([A-Za-z0-9_-]+)\.onnx$/.exec(path.basename(modelPath));
  return path.join(path.dirname(modelPath), m ? `SOURCE.${m[1]}` : 'SOURCE');
}

/** Reads and checks a checkpoint table (MODEL_CHECKPOINT_TABLE): a JSON array of {name, file, sha256, bytes}. */
export function loadCheckpointTable(file: string): OfficialCheckpoint[] {
  const raw: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  const ok = (c: unknown): c is OfficialCheckpoint => {
    const o = c as Partial<Record<keyof OfficialCheckpoint, unknown>> | null;
    return (
      !!o &&
      typeof o.name === 'string' &&
      typeof o.file === 'string' &&
      typeof o.sha256 === 'string' &&
      /^[a-f0-9]{64}$/i.test(o.sha256) &&
      typeof o.bytes === 'number' &&
      Number.isInteger(o.bytes) &&
      o.bytes > 0
    );
  };
  if (!Array.isArray(raw) || !raw.every(ok)) throw new Error(`${file}: expected a JSON array of {name, file, sha256 (64 hex), bytes}`);
  return raw;
}

/**
 * The served model's provenance for a config: INFERENCE_BACKEND=fake has none; otherwise the stamp
 * beside MODEL_PATH (for Triton too: the model_repository file it serves), checked against the
 * published hashes or MODEL_CHECKPOINT_TABLE. A backend swapped in by a test still reports the configured model.
 */
export function modelProvenanceFor(config: Pick<AppConfig, 'backend' | 'modelPath' | 'modelCheckpointTable'>): ModelProvenance {
  if (config.backend === 'fake') return FAKE_MODEL;
  const table = config.modelCheckpointTable ? loadCheckpointTable(config.modelCheckpointTable) : OFFICIAL_CHECKPOINTS;
  return readModelProvenance(config.modelPath, table);
}

/** The served model's provenance from the stamp beside `modelPath` (a missing stamp is "unknown", not an error). */
export function readModelProvenance(modelPath: string, table: readonly OfficialCheckpoint[] = OFFICIAL_CHECKPOINTS): ModelProvenance {
  let text: string;
  try {
    text = fs.readFileSync(stampPathFor(modelPath), 'utf8');
  } catch {
    return identifyModel(undefined, table);
  }
  return identifyModel(parseStamp(text), table);
}
