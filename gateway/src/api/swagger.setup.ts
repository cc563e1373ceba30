import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { PUBLIC_OPERATION_EXTENSION } from './public.decorator';

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/**
 * The OpenAPI document of the gateway. Security is declared once at the root (bearer or X-API-Key), so a
 * new route is protected in the document as it is by the guard; @Public() routes say `security: []`.
 * It must stay clean under Redocly's recommended rules (test/e2e/openapi-lint.e2e-spec.ts).
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('lipsync-gateway')
    .setDescription(
      'Avatar (face photo or short clip) + speech (audio or text) → lip-synced MP4 (Wav2Lip). ' +
        'Errors are JSON `{ "error": { "code", "message", "jobId"? } }` with a stable code. ' +
        'When API keys are configured, every /v1 route needs `Authorization: Bearer <key>` or `X-API-Key`.',
    )
    .setVersion('1')
    .setLicense('Apache-2.0', 'https://www.apache.org/licenses/LICENSE-2.0')
    // relative: the document is served by the gateway it describes, whatever host or proxy prefix that is
    .addServer('/', 'this gateway')
    .addBearerAuth()
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'api-key')
    .addSecurityRequirements('bearer')
    .addSecurityRequirements('api-key')
    .build();
  const doc = SwaggerModule.createDocument(app, config);
  for (const item of Object.values(doc.paths)) {
    for (const method of HTTP_METHODS) {
      const op = item[method] as (Record<string, unknown> & { security?: unknown[] }) | undefined;
      if (!op?.[PUBLIC_OPERATION_EXTENSION]) continue;
      delete op[PUBLIC_OPERATION_EXTENSION];
      op.security = [];
    }
  }
  return doc;
}

/** Swagger UI at /docs, the OpenAPI JSON at /docs-json. */
export function setupSwagger(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), { jsonDocumentUrl: 'docs-json' });
}
