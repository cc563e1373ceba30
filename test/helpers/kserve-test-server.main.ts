import * as path from 'path';
import { parseArgs } from 'util';
import { KServeTestServer, TRITON_LIKE_BATCHING } from './kserve-test-server';
import { makeTinyWav2LipModel } from './kserve-test-server.fixtures';

/**
 * Runs the KServe test server standalone (a CPU Triton stand-in for the gateway and the load test):
 *   bash test/helpers/kserve-test-server.sh [--model FILE|tiny] [--port N] [--threads N] [--delay-ms N]
 *     [--dynamic-batching [--queue-delay-ms 2] [--exec-ms 40]] [--max-batch-size N]
 * --dynamic-batching merges queued requests like Triton's dynamic batcher with one instance; --exec-ms is a
 * floor on each execution (a fixed time standing in for a GPU).
 * Relative paths resolve against the repo root (the script runs there). Prints the gRPC address and the metrics URL; stops on SIGINT/SIGTERM.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      port: { type: 'string' },
      threads: { type: 'string' },
      'delay-ms': { type: 'string' },
      'dynamic-batching': { type: 'boolean' },
      'queue-delay-ms': { type: 'string' },
      'exec-ms': { type: 'string' },
      'max-batch-size': { type: 'string' },
    },
  });
  const modelPath =
    values.model === 'tiny' ? makeTinyWav2LipModel() : path.resolve(values.model ?? 'model_repository/wav2lip/1/model.onnx');
  const server = await KServeTestServer.start({
    modelPath,
    port: Number(values.port ?? 0),
    intraOpThreads: Number(values.threads ?? 2),
    maxBatchSize: values['max-batch-size'] ? Number(values['max-batch-size']) : undefined,
    dynamicBatching: values['dynamic-batching']
      ? {
          maxQueueDelayMs: Number(values['queue-delay-ms'] ?? TRITON_LIKE_BATCHING.maxQueueDelayMs),
          execMs: Number(values['exec-ms'] ?? TRITON_LIKE_BATCHING.execMs),
        }
      : undefined,
  });
  if (values['delay-ms']) server.faults.inferDelayMs = Number(values['delay-ms']);
  const b = server.batcher.opts;
  const mode = b.merge ? `dynamic batching (queue delay ${b.maxQueueDelayMs} ms, ≥ ${b.execMs} ms per execution)` : 'no dynamic batching';
  console.log(`kserve-test-server: model ${modelPath}, max_batch_size ${b.maxBatchSize}, ${mode}`);
  console.log(`kserve-test-server: gRPC ${server.url}  (TRITON_URL=${server.url})`);
  console.log(`kserve-test-server: metrics ${server.metricsUrl}  (TRITON_METRICS_URL=${server.metricsUrl})`);
  const stop = () => void server.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: Error) => {
  console.error(`kserve-test-server: ${err.message}`);
  process.exit(1);
});
