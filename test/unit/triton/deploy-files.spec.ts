import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { newServerCounters, renderTritonMetrics } from '../../helpers/kserve-test-server.metrics';
import { parsePrometheusText } from '../../../gateway/src/tools/loadtest-report';

const ROOT = path.resolve(__dirname, '../../..');
const readYaml = (rel: string) => parse(fs.readFileSync(path.join(ROOT, rel), 'utf8'));
const compose = readYaml('docker-compose.yml');
const prometheus = readYaml('deploy/prometheus/prometheus.yml');
const datasources = readYaml('deploy/grafana/provisioning/datasources/prometheus.yml');
const providers = readYaml('deploy/grafana/provisioning/dashboards/lipsync.yml');
const dashboard = JSON.parse(fs.readFileSync(path.join(ROOT, 'deploy/grafana/dashboards/lipsync-gateway.json'), 'utf8'));

type Panel = { title: string; datasource: { uid: string }; targets: { expr: string; datasource: { uid: string } }[] };
const panels = dashboard.panels as Panel[];
const exprs = panels.flatMap((p) => p.targets.map((t) => t.expr));
/** metric names used in PromQL expressions (histogram _bucket series reduced to their base name) */
const metricNames = new Set(exprs.flatMap((e) => e.match(/\b(lipsync|nv)_[a-z0-9_]+/g) ?? []).map((m) => m.replace(/_bucket$/, '')));

// Triton names the dashboard may use: what the test server renders (Triton's names, triton.md §3) + GPU gauges
const counters = newServerCounters();
const TRITON_NAMES = new Set([...parsePrometheusText(renderTritonMetrics('wav2lip', counters)).map((s) => s.name), 'nv_gpu_utilization']);

describe('deploy/ (Prometheus and Grafana provisioning)', () => {
  it('should scrape the gateway and Triton at ports their compose services expose', () => {
    const targets = prometheus.scrape_configs.flatMap((c: { static_configs?: { targets: string[] }[] }) =>
      (c.static_configs ?? []).flatMap((s) => s.targets),
    );
    expect(targets.sort()).toEqual(['gateway-api:8080', 'triton:8002']);
    // the scalable workers are found by DNS (one A record per replica), on the port they listen on
    const workers = prometheus.scrape_configs.find((c: { job_name: string }) => c.job_name === 'gateway-worker');
    expect(workers.dns_sd_configs).toEqual([{ names: ['gateway-worker'], type: 'A', port: 8080 }]);
    for (const t of targets) {
      const [svc, port] = t.split(':');
      const { ports = [], expose = [] } = compose.services[svc] as { ports?: string[]; expose?: string[] };
      expect([...ports.map((p) => p.split(':').at(-1)), ...expose]).toContain(port);
    }
  });

  it('should mount the Prometheus config and Grafana provisioning where the images read them', () => {
    expect(compose.services.prometheus.volumes).toContain('./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
    expect(compose.services.grafana.volumes).toContain('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro');
    const dashMount = (compose.services.grafana.volumes as string[]).find((v) => v.startsWith('./deploy/grafana/dashboards:'));
    expect(dashMount?.split(':')[1]).toBe(providers.providers[0].options.path);
  });

  it('should point every panel at the provisioned Prometheus datasource', () => {
    const uid = datasources.datasources[0].uid;
    expect(datasources.datasources[0].url).toBe('http://prometheus:9090');
    expect(panels.length).toBeGreaterThanOrEqual(6);
    for (const p of panels) {
      expect(p.datasource.uid).toBe(uid);
      for (const t of p.targets) expect(t.datasource.uid).toBe(uid);
    }
  });

  it('should use only gateway metric names the metrics service registers', () => {
    const source = fs.readFileSync(path.join(ROOT, 'gateway/src/health/metrics.service.ts'), 'utf8');
    const gatewayNames = [...metricNames].filter((m) => m.startsWith('lipsync_'));
    expect(gatewayNames.sort()).toEqual([
      'lipsync_inference_batch_duration_seconds',
      'lipsync_inference_batch_size',
      'lipsync_inflight_batches',
      'lipsync_jobs_total',
      'lipsync_queue_depth',
      'lipsync_stage_duration_seconds',
    ]);
    for (const m of gatewayNames) expect(`${m}: ${source.includes(`'${m}'`)}`).toBe(`${m}: true`);
  });

  it("should use only Triton's metric names, and show batch size, queue vs compute and GPU utilisation", () => {
    for (const m of [...metricNames].filter((x) => x.startsWith('nv_'))) expect(`${m}: ${TRITON_NAMES.has(m)}`).toBe(`${m}: true`);
    const all = exprs.join('\n');
    expect(all).toMatch(/nv_inference_count[^\n]*\/[^\n]*nv_inference_exec_count/);
    expect(all).toContain('nv_inference_queue_duration_us');
    expect(all).toContain('nv_inference_compute_infer_duration_us');
    expect(all).toContain('nv_gpu_utilization');
  });
});
