import Ajv from 'ajv';
import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { loadConfig } from '../../../gateway/src/config/config';
import { REMOTE_INFER_DEPTH } from '../../../gateway/src/inference/inference-backend';

/**
 * `docker compose` is not installable on the build machines, so docker-compose.yml is checked here
 * against the compose-spec rules for the subset it uses (JSON schema, additionalProperties off so a
 * typo fails) plus cross-checks the spec cannot express. (Debian's docker-compose 1.29 also accepts
 * the file: `docker-compose -f docker-compose.yml config`.)
 */
const ROOT = path.resolve(__dirname, '../../..');
const compose = parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'));

const duration = { type: 'string', pattern: '^([0-9]+(ms|s|m|h))+$' };
const strList = { type: 'array', items: { type: 'string' } };
const device = {
  type: 'object',
  additionalProperties: false,
  required: ['capabilities'],
  properties: {
    driver: { type: 'string' },
    count: { oneOf: [{ type: 'integer', minimum: 1 }, { const: 'all' }] },
    device_ids: strList,
    capabilities: { ...strList, minItems: 1 },
    options: { type: 'object' },
  },
  not: { required: ['count', 'device_ids'] }, // mutually exclusive in the spec
};
const service = {
  type: 'object',
  additionalProperties: false,
  anyOf: [{ required: ['image'] }, { required: ['build'] }],
  properties: {
    image: { type: 'string', minLength: 1 },
    build: {
      oneOf: [
        { type: 'string' },
        {
          type: 'object',
          additionalProperties: false,
          required: ['context'],
          properties: {
            context: { type: 'string' },
            dockerfile: { type: 'string' },
            args: { type: 'object', additionalProperties: { type: 'string' } },
          },
        },
      ],
    },
    command: strList,
    environment: { type: 'object', additionalProperties: { type: 'string' } },
    ports: { type: 'array', items: { type: 'string', pattern: '^(127\\.0\\.0\\.1:)?[0-9]{1,5}:[0-9]{1,5}(/(tcp|udp))?$' } },
    expose: { type: 'array', items: { type: 'string', pattern: '^[0-9]{1,5}$' } },
    networks: { type: 'array', items: { type: 'string' }, minItems: 1 },
    volumes: { type: 'array', items: { type: 'string', pattern: '^[^:]+:/[^:]*(:(ro|rw))?$' } },
    depends_on: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['condition'],
        properties: { condition: { enum: ['service_started', 'service_healthy', 'service_completed_successfully'] } },
      },
    },
    deploy: {
      type: 'object',
      additionalProperties: false,
      properties: {
        resources: {
          type: 'object',
          additionalProperties: false,
          properties: {
            reservations: { type: 'object', additionalProperties: false, properties: { devices: { type: 'array', items: device } } },
          },
        },
      },
    },
    healthcheck: {
      type: 'object',
      additionalProperties: false,
      required: ['test'],
      properties: {
        test: { type: 'array', minItems: 2, items: [{ enum: ['CMD', 'CMD-SHELL'] }], additionalItems: { type: 'string' } },
        interval: duration,
        timeout: duration,
        start_period: duration,
        retries: { type: 'integer', minimum: 1 },
      },
    },
    shm_size: { type: 'string', pattern: '^[0-9]+[bkmg]b?$' },
    ulimits: { type: 'object', additionalProperties: { oneOf: [{ type: 'integer' }, { type: 'object' }] } },
    restart: { enum: ['no', 'always', 'on-failure', 'unless-stopped'] },
  },
};
const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['services'],
  patternProperties: { '^x-': {} },
  properties: {
    services: { type: 'object', minProperties: 1, additionalProperties: service },
    volumes: { type: 'object', additionalProperties: { type: ['object', 'null'] } },
    networks: {
      type: 'object',
      additionalProperties: { type: ['object', 'null'], additionalProperties: false, properties: { internal: { type: 'boolean' } } },
    },
  },
};

type Service = {
  image?: string;
  command?: string[];
  build?: { context: string; dockerfile?: string; args?: Record<string, string> };
  environment?: Record<string, string>;
  ports?: string[];
  expose?: string[];
  networks?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  deploy?: { resources: { reservations: { devices: { capabilities: string[]; driver?: string }[] } } };
  healthcheck?: { test: string[] };
};
const services = compose.services as Record<string, Service>;
// "[ip:]host:container[/proto]" → the container port; `expose` lists container ports without publishing them
const containerPorts = (s: Service) => [
  ...(s.ports ?? []).map((p) => Number(p.split(':').at(-1)!.split('/')[0])),
  ...(s.expose ?? []).map(Number),
];
const hostPort = (p: string) => p.split(':').slice(0, -1).join(':');

describe('docker-compose.yml', () => {
  it('should satisfy the compose-spec subset schema', () => {
    const ajv = new Ajv({ allErrors: true, strictTuples: false });
    const validate = ajv.compile(schema);
    const ok = validate(compose);
    expect(ajv.errorsText(validate.errors)).toBe('No errors');
    expect(ok).toBe(true);
  });

  it('should have the six services, and depends_on only on services that exist (healthy → has a healthcheck)', () => {
    expect(Object.keys(services).sort()).toEqual(['gateway-api', 'gateway-worker', 'grafana', 'prometheus', 'redis', 'triton']);
    for (const [name, svc] of Object.entries(services)) {
      for (const [target, { condition }] of Object.entries(svc.depends_on ?? {})) {
        expect(`${name} → ${target}: ${target in services}`).toBe(`${name} → ${target}: true`);
        if (condition === 'service_healthy') expect(services[target].healthcheck).toBeDefined();
      }
    }
    expect(services['gateway-worker'].depends_on?.triton.condition).toBe('service_healthy');
    for (const name of ['gateway-api', 'gateway-worker']) expect(services[name].depends_on?.redis.condition).toBe('service_healthy');
  });

  it('should publish each host port once, and Triton on 8000/8001/8002 with a readiness healthcheck', () => {
    const hostPorts = Object.values(services).flatMap((s) => (s.ports ?? []).map(hostPort));
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
    expect(containerPorts(services.triton).sort()).toEqual([8000, 8001, 8002]);
    expect(services.triton.healthcheck?.test.join(' ')).toContain('/v2/health/ready');
  });

  it('should publish only the gateway API on all interfaces; Triton and Redis on the internal network, Prometheus and Grafana on 127.0.0.1', () => {
    const published = Object.entries(services).flatMap(([name, s]) => (s.ports ?? []).map((p) => `${name} ${hostPort(p)}`));
    expect(published.sort()).toEqual(['gateway-api 8080', 'grafana 127.0.0.1:3000', 'prometheus 127.0.0.1:9090']);
    expect(compose.networks.backend).toEqual({ internal: true });
    for (const name of ['triton', 'redis', 'gateway-worker']) expect(services[name].networks).toEqual(['backend']);
    // the API replicas and Prometheus reach the backend too (gRPC is the workers'; metrics are scraped)
    for (const name of ['gateway-api', 'prometheus']) expect(services[name].networks).toContain('backend');
  });

  it('should require API keys and a Grafana admin password, with no anonymous Grafana', () => {
    // `${VAR:?message}`: compose refuses to start while VAR is unset or empty
    expect(services['gateway-api'].environment?.API_KEYS).toMatch(/^\$\{API_KEYS:\?.+\}$/);
    const grafana = services.grafana.environment ?? {};
    expect(grafana.GF_AUTH_ANONYMOUS_ENABLED).toBe('false');
    expect(grafana.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:\?.+\}$/);
    expect(grafana).not.toHaveProperty('GF_AUTH_ANONYMOUS_ORG_ROLE');
  });

  it('should reserve an NVIDIA GPU for Triton and the gateway, with the video capability for NVENC', () => {
    for (const name of ['triton', 'gateway-worker']) {
      const devices = services[name].deploy?.resources.reservations.devices ?? [];
      expect(devices.some((d) => d.driver === 'nvidia' && d.capabilities.includes('gpu'))).toBe(true);
    }
    expect(services['gateway-worker'].environment?.NVIDIA_DRIVER_CAPABILITIES.split(',')).toEqual(
      expect.arrayContaining(['compute', 'utility', 'video']),
    );
  });

  it('should mount paths that exist in the repo and declare every named volume', () => {
    const named = Object.keys(compose.volumes ?? {});
    for (const svc of Object.values(services)) {
      for (const v of svc.volumes ?? []) {
        const src = v.split(':')[0];
        if (src.startsWith('./')) expect(`${src}: ${fs.existsSync(path.join(ROOT, src))}`).toBe(`${src}: true`);
        else expect(named).toContain(src);
      }
    }
    expect(services.triton.volumes).toContain('./model_repository:/models:ro');
  });

  it('should build from Dockerfiles that exist, with the Triton tags the triton/ Dockerfile pins', () => {
    for (const svc of Object.values(services)) {
      if (!svc.build) continue;
      const file = path.join(ROOT, svc.build.context, svc.build.dockerfile ?? 'Dockerfile');
      expect(`${file}: ${fs.existsSync(file)}`).toBe(`${file}: true`);
    }
    const tritonDockerfile = fs.readFileSync(path.join(ROOT, services.triton.build!.dockerfile!), 'utf8');
    for (const [arg, value] of Object.entries(services.triton.build!.args ?? {})) {
      expect(tritonDockerfile).toContain(`ARG ${arg}=${value}`);
    }
  });

  it('should configure the gateway for Triton with values loadConfig accepts, pointing at the Triton gRPC port', () => {
    const env = services['gateway-worker'].environment ?? {};
    const cfg = loadConfig({ ...env, API_KEYS: '' });
    expect(cfg.backend).toBe('triton');
    const [host, port] = cfg.triton.url.split(':');
    expect(host).toBe('triton');
    expect(containerPorts(services.triton)).toContain(Number(port));
    expect(containerPorts(services['gateway-api'])).toContain(cfg.port);
  });

  it('should run API replicas and scalable render workers on Redis (append-only) and one shared data volume', () => {
    const api = loadConfig({ ...services['gateway-api'].environment, API_KEYS: '' });
    const worker = loadConfig({ ...services['gateway-worker'].environment, API_KEYS: '' });
    expect(api.queue).toMatchObject({ driver: 'redis', role: 'api', redisUrl: 'redis://redis:6379' });
    expect(worker.queue).toMatchObject({ driver: 'redis', role: 'worker', redisUrl: 'redis://redis:6379' });
    expect(worker.jobs.concurrency).toBeGreaterThan(1);
    // every job's pipelined requests can be at Triton at once (a lower bound caps what its batcher merges)
    expect(worker.triton.maxInFlight).toBeGreaterThanOrEqual(REMOTE_INFER_DEPTH * worker.jobs.concurrency);
    // a scaled service cannot publish a fixed host port
    expect(services['gateway-worker'].ports).toBeUndefined();
    expect(services['gateway-api'].volumes).toContain('gateway-data:/data');
    expect(services['gateway-worker'].volumes).toContain('gateway-data:/data');
    expect(services.redis.image).toMatch(/^redis:7/);
    expect(services.redis.command).toEqual(expect.arrayContaining(['--appendonly', 'yes']));
    expect(services.redis.healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping']);
  });

  it('should have a gateway Dockerfile on node:24-bookworm-slim (both stages) with ffmpeg, espeak-ng, npm ci, a build and the protos', () => {
    const df = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    expect(df.match(/^FROM .*/gm)).toEqual(['FROM node:24-bookworm-slim AS build', 'FROM node:24-bookworm-slim']);
    expect(df).toMatch(/apt-get install[^\n]*ffmpeg[^\n]*espeak-ng/);
    expect(df).toContain('npm ci');
    expect(df).toContain('npm run build');
    expect(df).toMatch(/^COPY gateway\/proto /m);
    const ignore = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n');
    expect(ignore).not.toContain('gateway');
    expect(ignore).not.toContain('triton');
  });
});
