import { Module } from '@nestjs/common';
import { APP_CONFIG } from '../common/tokens';
import type { AppConfig } from '../config/config';
import { DataLayout } from '../jobs/job-files';
import { OutboundHttp } from './outbound-http';
import { UrlFetcher } from './url-fetcher';

/**
 * Outbound HTTP under the address policy (OutboundHttp) and URL inputs (UrlFetcher). Tests swap
 * OutboundHttp for one with a resolver they control (test/helpers/test-app.ts).
 */
@Module({
  providers: [
    {
      provide: OutboundHttp,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new OutboundHttp({ allowHosts: config.outbound?.allowHosts ?? [] }),
    },
    {
      provide: UrlFetcher,
      inject: [OutboundHttp, APP_CONFIG],
      useFactory: (http: OutboundHttp, config: AppConfig) =>
        new UrlFetcher(http, new DataLayout(config.dataDir).uploadsDir, {
          maxBytes: config.limits.maxUploadBytes,
          timeoutMs: config.outbound?.fetchTimeoutMs ?? 30_000,
        }),
    },
  ],
  exports: [OutboundHttp, UrlFetcher],
})
export class OutboundModule {}
