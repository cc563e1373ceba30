import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BackendKind } from '../inference/inference-backend';
import type { PipelineObserver, StageName } from '../render/render.types';
import type { JobStatus } from '../jobs/job.types';

// every stage the pipeline reports (a Record, so a new StageName fails to compile until it is listed)
const BACKENDS: readonly BackendKind[] = ['onnx', 'triton', 'fake'];
const STAGES: Record<StageName, true> = {
  decode: true,
  mel: true,
  detect: true,
  prepare: true,
  infer: true,
  composite: true,
  encode: true,
  total: true,
};

/**
 * All Prometheus metrics of the gateway (names are fixed: the Grafana dashboard uses them). One
 * registry per instance, never prom-client's global one, so several apps can live in one process.
 * It is the pipeline's observer: the render pipeline feeds batches, in-flight counts and stages.
 */
export class MetricsService implements PipelineObserver {
  readonly registry = new Registry();
  private readonly jobsTotal: Counter<'status'>;
  private readonly stageDuration: Histogram<'stage'>;
  private readonly batchSize: Histogram<'backend'>;
  private readonly batchDuration: Histogram<'backend'>;
  private readonly queueDepth: Gauge;
  private readonly inflightBatches: Gauge;
  private readonly firstFrameSeconds: Histogram<'streamed'>;
  private readonly sessionsActive: Gauge;
  private readonly sessionLatency: Histogram;
  private readonly sessionFrames: Counter<'kind'>;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.jobsTotal = new Counter({
      name: 'lipsync_jobs_total',
      help: 'Jobs that reached a final status',
      labelNames: ['status'],
      registers,
    });
    this.stageDuration = new Histogram({
      name: 'lipsync_stage_duration_seconds',
      help: 'Wall time per pipeline stage',
      labelNames: ['stage'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    });
    this.batchSize = new Histogram({
      name: 'lipsync_inference_batch_size',
      help: 'Frames per inference batch',
      labelNames: ['backend'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers,
    });
    this.batchDuration = new Histogram({
      name: 'lipsync_inference_batch_duration_seconds',
      help: 'Wall time per inference batch',
      labelNames: ['backend'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.queueDepth = new Gauge({ name: 'lipsync_queue_depth', help: 'Jobs waiting in the queue', registers });
    this.inflightBatches = new Gauge({ name: 'lipsync_inflight_batches', help: 'Inference batches in flight', registers });
    this.firstFrameSeconds = new Histogram({
      name: 'lipsync_first_frame_seconds',
      help: 'Time from the start of a render to its first frame written to the encoder',
      labelNames: ['streamed'],
      buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10, 30],
      registers,
    });
    this.sessionsActive = new Gauge({ name: 'lipsync_sessions_active', help: 'Live sessions open (created or connected)', registers });
    this.sessionLatency = new Histogram({
      name: 'lipsync_session_latency_seconds',
      help: "Live sessions: from a frame's audio arriving to its video fragment leaving (includes the 200 ms mel look-ahead)",
      buckets: [0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8, 1, 1.5, 2, 3, 5, 10],
      registers,
    });
    this.sessionFrames = new Counter({
      name: 'lipsync_session_frames_total',
      help: 'Live session frames by kind: speech, idle, dropped (shown without the model, too late for it), late (left after the late threshold)',
      labelNames: ['kind'],
      registers,
    });
    for (const kind of ['speech', 'idle', 'dropped', 'late'] as const) this.sessionFrames.inc({ kind }, 0);
    // Initialise the status series so dashboards see zeros before the first job.
    for (const status of ['succeeded', 'failed', 'cancelled'] as const) this.jobsTotal.inc({ status }, 0);
    // Same for the stage histograms: a series born with the first job's observation has no increase
    // to take a rate over, so the latency panel would stay empty until a second job.
    for (const stage of Object.keys(STAGES)) this.stageDuration.zero({ stage });
    // and the batch histograms: the job a dashboard sees first may finish between two scrapes
    for (const backend of BACKENDS) {
      this.batchSize.zero({ backend });
      this.batchDuration.zero({ backend });
    }
  }

  batchDone(size: number, ms: number, backend: BackendKind): void {
    this.batchSize.observe({ backend }, size);
    this.batchDuration.observe({ backend }, ms / 1000);
  }

  inFlightChanged(delta: 1 | -1): void {
    this.inflightBatches.inc(delta);
  }

  stageDone(stage: StageName, ms: number): void {
    this.stageDuration.observe({ stage }, ms / 1000);
  }

  firstFrame(ms: number, streamed: boolean): void {
    this.firstFrameSeconds.observe({ streamed: String(streamed) }, ms / 1000);
  }

  sessionsChanged(delta: 1 | -1): void {
    this.sessionsActive.inc(delta);
  }

  sessionLatencyMs(ms: number): void {
    this.sessionLatency.observe(ms / 1000);
  }

  sessionFrame(kind: 'speech' | 'idle' | 'dropped' | 'late'): void {
    this.sessionFrames.inc({ kind });
  }

  jobFinished(status: JobStatus): void {
    this.jobsTotal.inc({ status });
  }

  setQueueDepth(depth: number): void {
    this.queueDepth.set(depth);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
