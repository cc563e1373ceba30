import * as grpc from '@grpc/grpc-js';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as ort from 'onnxruntime-node';
import { CONTRACT_INPUTS, CONTRACT_OUTPUTS, FACE_ELEMENTS } from '../../gateway/src/inference/model-contract';
import { loadInferenceProto, ModelMetadataResponse } from '../../gateway/src/inference/triton/triton-proto';
import { concatInputs, DynamicBatcher, Execution, sliceOutput } from './kserve-dynamic-batcher';
import { decodeInputs, grpcError, ModelInput } from './kserve-test-server.inputs';
import { modelStatistics, newServerCounters, renderTritonMetrics, ServerCounters } from './kserve-test-server.metrics';

/** Faults the server can inject; change them at any time through `server.faults`. */
export interface KServeFaults {
  /** answer the next N ModelInfer calls with UNAVAILABLE (Infinity = always) */
  unavailable?: number;
  /** wait this long before answering ModelInfer (e.g. longer than the client's deadline) */
  inferDelayMs?: number;
  /** answer with one frame fewer than requested (shape and byte count both wrong) */
  wrongOutputShape?: boolean;
  /** answer with the right shape but a truncated raw_output_contents entry */
  truncatedOutput?: boolean;
  /** answer without the `mouth` output */
  missingOutput?: boolean;
  serverNotReady?: boolean;
  modelNotReady?: boolean;
  /** replace what ModelMetadata reports (e.g. a wrong dtype) */
  metadata?: Partial<ModelMetadataResponse>;
}

export interface KServeTestServerOptions {
  /** ONNX file with the wav2lip contract (mel, face → mouth) */
  modelPath: string;
  /** 0 = ephemeral (default); pass a previous server's port to simulate a restart */
  port?: number;
  modelName?: string;
  /** also serve Triton-style /metrics over HTTP on an ephemeral port (default true) */
  metrics?: boolean;
  intraOpThreads?: number;
  /** max_batch_size reported by ModelConfig and enforced on ModelInfer, like Triton (default 128) */
  maxBatchSize?: number;
  /**
   * Triton's dynamic batcher with one model instance: queued requests are merged into one execution
   * (up to maxBatchSize frames, waiting up to maxQueueDelayMs from the oldest), each execution takes at
   * least execMs (a GPU stand-in). Absent = no dynamic batching: one execution per request, serialized.
   */
  dynamicBatching?: { maxQueueDelayMs?: number; execMs?: number };
}

/** The model_repository config's 2 ms queue delay, and a fixed 40 ms per execution standing in for a GPU. */
export const TRITON_LIKE_BATCHING = { maxQueueDelayMs: 2, execMs: 40 } as const;

type Callback = grpc.sendUnaryData<unknown>;
type Call = grpc.ServerUnaryCall<any, unknown>;

const contractSignature = (name: string): ModelMetadataResponse => ({
  name,
  versions: ['1'],
  platform: 'onnxruntime_onnx',
  inputs: CONTRACT_INPUTS.map((t) => ({ name: t.name, datatype: t.datatype, shape: [-1, ...t.dims] })),
  outputs: CONTRACT_OUTPUTS.map((t) => ({ name: t.name, datatype: t.datatype, shape: [-1, ...t.dims] })),
});

/**
 * A KServe v2 gRPC server for tests (Triton stand-in): built with @grpc/grpc-js from the gateway's
 * own protos, it really runs an ONNX model with onnxruntime-node (one model instance: executions are
 * serialized, so queue time and compute time are both real), reports Triton-style ModelStatistics
 * and /metrics, counts concurrent ModelInfer calls, and injects faults. Listens on 127.0.0.1 only.
 */
export class KServeTestServer {
  faults: KServeFaults = {};
  readonly counters: ServerCounters = newServerCounters();
  /** ModelInfer calls being handled right now, and the most ever seen at once */
  inFlight = 0;
  maxInFlight = 0;
  inferCalls = 0;
  /** batch size of every ModelInfer call that reached the model, in arrival order */
  readonly inferBatchSizes: number[] = [];
  /** frames of every model execution, in order (with dynamic batching, several requests each) */
  readonly executionSizes: number[] = [];
  readonly batcher: DynamicBatcher<ModelInput, Uint8Array>;
  port = 0;
  metricsPort = 0;
  // like Triton (INT32_MAX): grpc-js's 4 MiB default would refuse batches above ~120 frames
  private server = new grpc.Server({ 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 });
  private metricsServer?: http.Server;
  private lastScrape = { at: process.hrtime.bigint(), busyNs: 0 };

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly modelName: string,
    opts: KServeTestServerOptions,
  ) {
    const db = opts.dynamicBatching;
    this.batcher = new DynamicBatcher(
      {
        maxBatchSize: opts.maxBatchSize ?? 128,
        maxQueueDelayMs: db?.maxQueueDelayMs ?? 0,
        execMs: db?.execMs ?? 0,
        merge: db !== undefined,
      },
      (inputs, frames) => this.execute(inputs, frames),
      (e) => this.recordExecution(e),
    );
  }

  static async start(opts: KServeTestServerOptions): Promise<KServeTestServer> {
    const session = await ort.InferenceSession.create(opts.modelPath, { intraOpNumThreads: opts.intraOpThreads ?? 1 });
    const srv = new KServeTestServer(session, opts.modelName ?? 'wav2lip', opts);
    await srv.listen(opts.port ?? 0, opts.metrics ?? true);
    return srv;
  }

  /** what ModelConfig reports and ModelInfer enforces (the batcher's limit too); may be changed at any time */
  get maxBatchSize(): number {
    return this.batcher.opts.maxBatchSize;
  }

  set maxBatchSize(v: number) {
    this.batcher.opts.maxBatchSize = v;
  }

  get url(): string {
    return `127.0.0.1:${this.port}`;
  }

  get metricsUrl(): string {
    return `http://127.0.0.1:${this.metricsPort}/metrics`;
  }

  /** Hard stop (like a crashed Triton): open calls fail with UNAVAILABLE/CANCELLED on the client. */
  async stop(): Promise<void> {
    this.server.forceShutdown();
    this.batcher.close();
    if (this.metricsServer) await new Promise((r) => this.metricsServer!.close(r));
    this.metricsServer = undefined;
    await this.session.release().catch(() => undefined);
  }

  private async listen(port: number, metrics: boolean): Promise<void> {
    const pkg = grpc.loadPackageDefinition(loadInferenceProto()) as any;
    this.server.addService(pkg.inference.GRPCInferenceService.service, this.handlers());
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    if (metrics) {
      this.metricsServer = http.createServer((req, res) => {
        if (req.url !== '/metrics') return void res.writeHead(404).end();
        res
          .writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
          .end(renderTritonMetrics(this.modelName, { ...this.counters, pending: this.batcher.pending }, this.utilizationSinceLastScrape()));
      });
      await new Promise<void>((r) => this.metricsServer!.listen(0, '127.0.0.1', r));
      this.metricsPort = (this.metricsServer.address() as AddressInfo).port;
    }
  }

  /** Share of the wall time since the previous /metrics scrape that the model spent computing (0..1). */
  private utilizationSinceLastScrape(): number {
    const now = process.hrtime.bigint();
    const busy = this.counters.busyNs - this.lastScrape.busyNs;
    const wall = Number(now - this.lastScrape.at);
    this.lastScrape = { at: now, busyNs: this.counters.busyNs };
    return wall > 0 ? Math.min(1, Math.round((busy / wall) * 1000) / 1000) : 0;
  }

  private handlers(): grpc.UntypedServiceImplementation {
    const knownModel = (name: string) => name === this.modelName;
    return {
      ServerLive: (_c: Call, cb: Callback) => cb(null, { live: true }),
      ServerReady: (_c: Call, cb: Callback) => cb(null, { ready: !this.faults.serverNotReady }),
      ModelReady: (c: Call, cb: Callback) => cb(null, { ready: knownModel(c.request.name) && !this.faults.modelNotReady }),
      ServerMetadata: (_c: Call, cb: Callback) => cb(null, { name: 'kserve-test-server', version: '0.0.0', extensions: ['statistics'] }),
      ModelMetadata: (c: Call, cb: Callback) => {
        if (!knownModel(c.request.name)) return cb(grpcError(grpc.status.NOT_FOUND, `unknown model '${c.request.name}'`));
        cb(null, { ...contractSignature(this.modelName), ...this.faults.metadata });
      },
      ModelConfig: (c: Call, cb: Callback) => {
        if (!knownModel(c.request.name)) return cb(grpcError(grpc.status.NOT_FOUND, `unknown model '${c.request.name}'`));
        const cfgT = (t: { name: string; datatype: string; dims: number[] }) => ({
          name: t.name,
          data_type: `TYPE_${t.datatype}`,
          dims: t.dims,
        });
        cb(null, {
          config: {
            name: this.modelName,
            platform: 'onnxruntime_onnx',
            backend: 'onnxruntime',
            max_batch_size: this.maxBatchSize,
            input: CONTRACT_INPUTS.map(cfgT),
            output: CONTRACT_OUTPUTS.map(cfgT),
          },
        });
      },
      ModelStatistics: (_c: Call, cb: Callback) => cb(null, { model_stats: [modelStatistics(this.modelName, this.counters)] }),
      ModelInfer: (c: Call, cb: Callback) => {
        this.inferCalls++;
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        this.modelInfer(c)
          .then(
            (res) => cb(null, res),
            (err) => {
              this.counters.failure++;
              cb(err);
            },
          )
          .finally(() => this.inFlight--);
      },
    };
  }

  private async modelInfer(call: Call): Promise<unknown> {
    const t0 = process.hrtime.bigint();
    const req = call.request;
    if ((this.faults.unavailable ?? 0) > 0) {
      this.faults.unavailable!--;
      throw grpcError(grpc.status.UNAVAILABLE, 'injected fault: server unavailable');
    }
    if (!this.faults.serverNotReady && !this.faults.modelNotReady && req.model_name !== this.modelName) {
      throw grpcError(grpc.status.NOT_FOUND, `Request for unknown model: '${req.model_name}' is not found`);
    }
    if (this.faults.modelNotReady) throw grpcError(grpc.status.UNAVAILABLE, `model '${req.model_name}' is not ready`);
    const input = decodeInputs(req);
    const n = input.n;
    if (n > this.maxBatchSize) {
      throw grpcError(grpc.status.INVALID_ARGUMENT, `inference request batch-size must be <= ${this.maxBatchSize} for '${this.modelName}'`);
    }
    this.inferBatchSizes.push(n);
    if (this.faults.inferDelayMs) await new Promise((r) => setTimeout(r, this.faults.inferDelayMs));
    if (call.cancelled) throw grpcError(grpc.status.CANCELLED, 'cancelled by the client');
    const answer = await this.batcher.submit(n, input);
    const c = this.counters;
    c.success++;
    c.requestNs += Number(process.hrtime.bigint() - t0);
    c.queueNs += answer.queueNs;
    c.computeInferNs += answer.computeNs; // per request, like Triton: each request counts its execution's time
    let raw = Buffer.from(answer.output.buffer, answer.output.byteOffset, answer.output.byteLength);
    let shape = [n, ...CONTRACT_OUTPUTS[0].dims];
    if (this.faults.wrongOutputShape) {
      shape = [n - 1, ...shape.slice(1)];
      raw = raw.subarray(0, (raw.length / n) * (n - 1));
    }
    if (this.faults.truncatedOutput) raw = raw.subarray(0, raw.length - 1);
    const outputs = this.faults.missingOutput ? [] : [{ name: 'mouth', datatype: 'UINT8', shape }];
    return {
      model_name: this.modelName,
      model_version: '1',
      id: req.id,
      outputs,
      raw_output_contents: this.faults.missingOutput ? [] : [raw],
    };
  }

  /** One model execution over the merged inputs of its requests; each gets its own slice of the output. */
  private async execute(inputs: ModelInput[], frames: number): Promise<Uint8Array[]> {
    const mel = concatInputs(inputs.map((i) => i.mel));
    const face = concatInputs(inputs.map((i) => i.face));
    const [melSpec, faceSpec] = CONTRACT_INPUTS;
    const out = await this.session.run({
      [melSpec.name]: new ort.Tensor('float32', mel, [frames, ...melSpec.dims]),
      [faceSpec.name]: new ort.Tensor('uint8', face, [frames, ...faceSpec.dims]),
    });
    const mouth = out[CONTRACT_OUTPUTS[0].name].data as Uint8Array;
    return sliceOutput(
      mouth,
      inputs.map((i) => i.n),
      FACE_ELEMENTS,
    );
  }

  private recordExecution(e: Execution): void {
    const c = this.counters;
    c.inferenceCount += e.frames;
    c.execCount++;
    c.busyNs += Number(e.endNs - e.startNs);
    c.lastInferenceMs = Date.now();
    c.batchSizes.set(e.frames, (c.batchSizes.get(e.frames) ?? 0) + 1);
    this.executionSizes.push(e.frames);
  }
}
