import { Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, MODEL_PROVENANCE } from '../common/tokens';
import type { AppConfig } from '../config/config';
import { createBackend } from './backend-factory';
import { INFERENCE_BACKEND, type InferenceBackend } from './inference-backend';
import { modelProvenanceFor } from './model-provenance';

/** Closes the backend (worker thread, gRPC channel) after the jobs have stopped (they stop in beforeApplicationShutdown). */
@Injectable()
export class InferenceLifecycle implements OnApplicationShutdown {
  constructor(@Inject(INFERENCE_BACKEND) private readonly backend: InferenceBackend) {}

  async onApplicationShutdown(): Promise<void> {
    await this.backend.close();
  }
}

/**
 * The InferenceBackend chosen by INFERENCE_BACKEND (driver + factory: backend-factory.ts), started
 * (model loaded, contract checked) before anything that renders is built.
 */
@Module({
  providers: [
    {
      provide: INFERENCE_BACKEND,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig) => {
        const backend = createBackend(config);
        // an API replica never renders: it does not load the model
        if (config.queue?.role !== 'api') await backend.start();
        return backend;
      },
    },
    // what the served model is (stamp + published hashes): /readyz, job results, MP4 tags
    { provide: MODEL_PROVENANCE, inject: [APP_CONFIG], useFactory: (config: AppConfig) => modelProvenanceFor(config) },
    InferenceLifecycle,
  ],
  exports: [INFERENCE_BACKEND, MODEL_PROVENANCE],
})
export class InferenceModule {}
