/** Injection tokens for the plain (non-Nest) objects createApp() hands to the module. */
export const APP_CONFIG = Symbol('APP_CONFIG');
export const CORE_SERVICES = Symbol('CORE_SERVICES');
export const SPEECH_SYNTHESIZER = Symbol('SPEECH_SYNTHESIZER');
export const METRICS = Symbol('METRICS');
