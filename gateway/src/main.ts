import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createApp, logLevels } from './app.module';
import { AppConfig, ConfigError, loadConfig } from './config/config';
import { demoModelNotice } from './core-services';

/** `npm start`: validate the environment (exit 1 with a clear message), build the app, listen on PORT. */
async function bootstrap(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`lipsync-gateway: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const app = await createApp(config, { logger: logLevels(config.logLevel), structuredLogs: true });
  app.enableShutdownHooks();
  await app.listen(config.port);
  const log = new Logger('Main');
  log.log(`listening on :${config.port} (backend ${config.backend}, data ${config.dataDir}); docs at /docs`);
  const notice = config.backend === 'onnx' ? demoModelNotice(config.modelPath) : undefined;
  if (notice) log.warn(notice);
}

bootstrap().catch((err: unknown) => {
  process.stderr.write(`lipsync-gateway failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
