/**
 * Nest injection tokens for providers that are interfaces or plain classes built by factories
 * (a class used as its own token needs none). One file, so modules never import each other for a symbol.
 */
export const APP_CONFIG = Symbol('APP_CONFIG');
export const CORE_SERVICES = Symbol('CORE_SERVICES');
export const SPEECH_SYNTHESIZER = Symbol('SPEECH_SYNTHESIZER');
export const METRICS = Symbol('METRICS');
/** the encoder chooseEncoder() picked at start ('libx264' | 'h264_nvenc') */
export const VIDEO_ENCODER = Symbol('VIDEO_ENCODER');
/** the real RenderPipeline */
export const RENDER_PIPELINE = Symbol('RENDER_PIPELINE');
/** what jobs render with: RENDER_PIPELINE unless a test wraps it */
export const RENDERER = Symbol('RENDERER');
export const FACE_DETECTOR = Symbol('FACE_DETECTOR');
/** the served model's ModelProvenance (name, origin, licence, precision) from its stamp */
export const MODEL_PROVENANCE = Symbol('MODEL_PROVENANCE');
