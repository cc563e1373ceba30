import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** Swagger UI at /docs, the OpenAPI JSON at /docs-json. */
export function setupSwagger(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('lipsync-gateway')
    .setDescription(
      'Avatar (face photo or short clip) + speech (audio or text) → lip-synced MP4 (Wav2Lip). ' +
        'Errors are JSON `{ "error": { "code", "message", "jobId"? } }` with a stable code. ' +
        'When API keys are configured, every /v1 route needs `Authorization: Bearer <key>` or `X-API-Key`.',
    )
    .setVersion('1')
    .addBearerAuth()
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'api-key')
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, config), { jsonDocumentUrl: 'docs-json' });
}
