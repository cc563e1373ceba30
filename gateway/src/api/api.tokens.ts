// The tokens moved to common/tokens.ts (every module uses them); re-exported for older imports.
export { APP_CONFIG, CORE_SERVICES, METRICS, SPEECH_SYNTHESIZER } from '../common/tokens';
