import type { INestApplication, LoggerService, LogLevel } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AppModule, configureApp, httpAppOptions } from '../../gateway/src/app.module';
import { CORE_SERVICES, RENDER_PIPELINE, RENDERER, SPEECH_SYNTHESIZER } from '../../gateway/src/common/tokens';
import type { AppConfig } from '../../gateway/src/config/config';
import { CoreModule } from '../../gateway/src/core.module';
import type { CoreServices } from '../../gateway/src/core-services';
import { INFERENCE_BACKEND, type InferenceBackend } from '../../gateway/src/inference/inference-backend';
import { LookupFn, OutboundHttp } from '../../gateway/src/outbound/outbound-http';
import type { Renderer } from '../../gateway/src/render/render.types';
import type { SpeechSynthesizer } from '../../gateway/src/speech/speech-synthesizer';

export interface AppOverrides {
  /** replace the inference backend (tests: the fake backend); it is started like the real one */
  backend?: InferenceBackend;
  speech?: SpeechSynthesizer;
  /** wrap the real renderer (tests: hold a job at a gate, watch a render) */
  wrapRenderer?: (real: Renderer) => Renderer;
  logger?: LoggerService | LogLevel[] | false;
  /** DNS lookup for outbound requests (URL inputs, webhooks): a resolver the test controls */
  outboundLookup?: LookupFn;
}

/** The real AppModule with providers swapped through Nest's overrideProvider (not initialised, not listening). */
export async function createTestApp(config: AppConfig, overrides: AppOverrides = {}): Promise<INestApplication> {
  const builder = Test.createTestingModule({ imports: [AppModule.forRoot(config)] });
  const { backend, speech, wrapRenderer } = overrides;
  if (backend) {
    builder.overrideProvider(INFERENCE_BACKEND).useFactory({
      factory: async () => {
        await backend.start();
        return backend;
      },
    });
  }
  if (speech) builder.overrideProvider(SPEECH_SYNTHESIZER).useValue(speech);
  if (wrapRenderer)
    builder.overrideProvider(RENDERER).useFactory({ factory: (real: Renderer) => wrapRenderer(real), inject: [RENDER_PIPELINE] });
  if (overrides.outboundLookup) {
    const lookup = overrides.outboundLookup;
    builder.overrideProvider(OutboundHttp).useValue(new OutboundHttp({ allowHosts: config.outbound?.allowHosts ?? [], lookup }));
  }
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication(httpAppOptions(overrides.logger ?? ['error']));
  configureApp(app, config);
  return app;
}

/** CoreModule (the CLI's pipeline) with the backend swapped through overrideProvider; close() closes the context. */
export async function createTestCoreServices(config: AppConfig, overrides: Pick<AppOverrides, 'backend'> = {}): Promise<CoreServices> {
  const builder = Test.createTestingModule({ imports: [CoreModule.forRoot(config)] });
  const { backend } = overrides;
  if (backend) {
    builder.overrideProvider(INFERENCE_BACKEND).useFactory({
      factory: async () => {
        await backend.start();
        return backend;
      },
    });
  }
  const moduleRef = await builder.compile();
  await moduleRef.init();
  return { ...moduleRef.get<CoreServices>(CORE_SERVICES), close: () => moduleRef.close() };
}
