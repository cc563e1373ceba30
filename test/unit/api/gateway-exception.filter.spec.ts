import type { ArgumentsHost } from '@nestjs/common';
import { GatewayExceptionFilter } from '../../../gateway/src/api/gateway-exception.filter';
import { GatewayError } from '../../../gateway/src/common/errors';

/** The bits of an Express response the filter uses, recording what it did. */
function fakeResponse(headers: Record<string, string>) {
  const res = {
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    headersSent: false,
    statusCode: 200,
    body: undefined as unknown,
    removeHeader(name: string) {
      delete res.headers[name.toLowerCase()];
    },
    status(code: number) {
      res.statusCode = code;
      return res;
    },
    json(body: unknown) {
      res.body = body;
      return res;
    },
    destroy: jest.fn(),
  };
  return res;
}

const hostFor = (res: unknown): ArgumentsHost =>
  ({ switchToHttp: () => ({ getResponse: () => res, getRequest: () => ({ method: 'GET', url: '/x' }) }) }) as unknown as ArgumentsHost;

describe(GatewayExceptionFilter.name, () => {
  it('should drop the file headers a failed send set, keeping Content-Range, before answering JSON', () => {
    const res = fakeResponse({
      'Content-Type': 'video/mp4',
      'Content-Disposition': 'inline; filename="a.mp4"',
      ETag: 'W/"1"',
      'Last-Modified': 'Mon, 01 Jan 2024 00:00:00 GMT',
      'Cache-Control': 'public, max-age=0',
      'Content-Range': 'bytes */1234',
      'X-Job-Id': 'job-1',
    });
    new GatewayExceptionFilter().catch(new GatewayError('RANGE_NOT_SATISFIABLE', 'bad range'), hostFor(res));
    expect(res.statusCode).toBe(416);
    expect(res.body).toEqual({ error: { code: 'RANGE_NOT_SATISFIABLE', message: 'bad range' } });
    expect(Object.keys(res.headers).sort()).toEqual(['content-range', 'x-job-id']);
  });

  it('should cut the connection when the headers are already out', () => {
    const res = fakeResponse({ 'Content-Type': 'video/mp4' });
    res.headersSent = true;
    new GatewayExceptionFilter().catch(new GatewayError('INTERNAL', 'x'), hostFor(res));
    expect(res.destroy).toHaveBeenCalled();
    expect(res.body).toBeUndefined();
  });
});
