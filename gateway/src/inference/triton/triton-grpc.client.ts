import * as grpc from '@grpc/grpc-js';
import { GatewayError } from '../../common/errors';
import { toTritonError } from './triton-errors';
import {
  loadInferenceProto,
  ModelConfigResponse,
  ModelInferRequest,
  ModelInferResponse,
  ModelMetadataResponse,
  ModelStatisticsResponse,
} from './triton-proto';

export interface CallOptions {
  /** ms from now; every call carries a deadline */
  deadlineMs: number;
  /** aborting cancels the call (Triton then cancels the request, triton.md §1.10) */
  signal?: AbortSignal;
}

/**
 * Channel options. Triton (grpc core) allows client pings only every 5 min on an idle connection
 * and sends GOAWAY(too_many_pings) after 2 strikes, so keepalive is 5 min and only while calls are
 * active. grpc-js caps received messages at 4 MiB by default: a batch of 64 mouths is ~1.8 MB, of
 * 128 ~3.5 MB, so lift both limits. Short reconnect backoff so a restarted Triton is found quickly.
 */
export const TRITON_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
  'grpc.keepalive_time_ms': 300_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.keepalive_permit_without_calls': 0,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 2_000,
  'grpc-node.flow_control_window': 16 * 1024 * 1024,
};

let cachedCtor: grpc.ServiceClientConstructor | undefined;

function serviceConstructor(): grpc.ServiceClientConstructor {
  if (!cachedCtor) {
    const pkg = grpc.loadPackageDefinition(loadInferenceProto()) as unknown as {
      inference: { GRPCInferenceService: grpc.ServiceClientConstructor };
    };
    cachedCtor = pkg.inference.GRPCInferenceService;
  }
  return cachedCtor;
}

type UnaryMethod = (
  req: unknown,
  md: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res: unknown) => void,
) => grpc.ClientUnaryCall;

/**
 * The only file that imports @grpc/grpc-js: one channel per Triton URL (one client = one channel,
 * reused for every call), promisified unary RPCs with a deadline and cancel-on-abort. Failures come
 * out as GatewayError via triton-errors.ts (gRPC code kept in details.grpcCode).
 */
export class TritonGrpcClient {
  private readonly client: grpc.Client;

  constructor(
    readonly url: string,
    options: grpc.ChannelOptions = {},
  ) {
    const Ctor = serviceConstructor();
    this.client = new Ctor(url, grpc.credentials.createInsecure(), { ...TRITON_CHANNEL_OPTIONS, ...options });
  }

  async serverReady(opts: CallOptions): Promise<boolean> {
    const res = await this.unary<{ ready: boolean }>('ServerReady', {}, opts);
    return res.ready;
  }

  async modelReady(name: string, opts: CallOptions, version = ''): Promise<boolean> {
    const res = await this.unary<{ ready: boolean }>('ModelReady', { name, version }, opts);
    return res.ready;
  }

  modelMetadata(name: string, opts: CallOptions, version = ''): Promise<ModelMetadataResponse> {
    return this.unary('ModelMetadata', { name, version }, opts);
  }

  modelConfig(name: string, opts: CallOptions, version = ''): Promise<ModelConfigResponse> {
    return this.unary('ModelConfig', { name, version }, opts);
  }

  modelStatistics(name: string, opts: CallOptions, version = ''): Promise<ModelStatisticsResponse> {
    return this.unary('ModelStatistics', { name, version }, opts);
  }

  modelInfer(req: ModelInferRequest, opts: CallOptions): Promise<ModelInferResponse> {
    return this.unary('ModelInfer', req, opts);
  }

  close(): void {
    this.client.close();
  }

  private unary<Res>(rpc: string, req: unknown, opts: CallOptions): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      if (opts.signal?.aborted) return reject(new GatewayError('CANCELLED', 'the operation was cancelled'));
      const method = (this.client as unknown as Record<string, UnaryMethod>)[rpc].bind(this.client);
      const deadline = new Date(Date.now() + Math.max(1, opts.deadlineMs));
      const onAbort = () => call.cancel();
      const call = method(req, new grpc.Metadata(), { deadline }, (err, res) => {
        opts.signal?.removeEventListener('abort', onAbort);
        if (err) reject(toTritonError(err, { url: this.url, rpc }));
        else resolve(res as Res);
      });
      opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
