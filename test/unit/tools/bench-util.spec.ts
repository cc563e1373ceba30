import { spawn } from 'child_process';
import * as net from 'net';

// the benches' shared helpers (plain CommonJS under scripts/lib)
// eslint-disable-next-line @typescript-eslint/no-require-imports
const util = require('../../../scripts/lib/bench-util') as {
  arg: (name: string, dflt: string | undefined, argv: string[]) => string | undefined;
  flag: (name: string, argv: string[]) => boolean;
  freePort: () => Promise<number>;
  percentile: (v: number[], p: number) => number;
  cpuSeconds: (pid: number) => number;
  stopProcess: (p: ReturnType<typeof spawn>, signal?: NodeJS.Signals, graceMs?: number) => Promise<void>;
};

describe('scripts/lib/bench-util', () => {
  it('should read --name value flags and fall back to the default', () => {
    const argv = ['node', 'bench.js', '--jobs', '50', '--kill'];
    expect(util.arg('jobs', '16', argv)).toBe('50');
    expect(util.arg('clients', '8', argv)).toBe('8');
    expect(util.arg('kill', 'x', argv)).toBe('x'); // a trailing flag has no value
    expect(util.flag('kill', argv)).toBe(true);
    expect(util.flag('workers', argv)).toBe(false);
  });

  it('should hand out a loopback port nobody listens on', async () => {
    const port = await util.freePort();
    const srv = net.createServer();
    await new Promise<void>((resolve) => srv.listen(port, '127.0.0.1', resolve));
    await new Promise((r) => srv.close(r));
  });

  it('should interpolate percentiles and give NaN for no values', () => {
    expect(util.percentile([40, 10, 30, 20], 50)).toBe(25);
    expect(util.percentile([1, 2, 3, 4, 5], 95)).toBeCloseTo(4.8);
    expect(Number.isNaN(util.percentile([], 95))).toBe(true);
  });

  it("should read this process's CPU time and stop a child, by SIGKILL after the grace time if it ignores SIGTERM", async () => {
    expect(util.cpuSeconds(process.pid)).toBeGreaterThan(0);
    const child = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 300));
    await util.stopProcess(child, 'SIGTERM', 300);
    expect(child.signalCode).toBe('SIGKILL');
  });
});
