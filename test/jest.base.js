// Shared jest settings; each test layer has its own config (unit, medium, e2e).
const path = require('path');
module.exports = (layer, pattern, timeoutMs) => ({
  rootDir: path.resolve(__dirname, '..'),
  displayName: layer,
  testEnvironment: 'node',
  testMatch: [`<rootDir>/test/${layer}/**/*.${pattern}.ts`],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
    // request-filtering-agent ships ES modules only; jest's CommonJS runtime needs them transpiled
    // (Node 20.19+ loads them natively with require() at run time).
    '/node_modules/request-filtering-agent/.+\\.js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', esModuleInterop: true, isolatedModules: true } },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!request-filtering-agent/)'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  clearMocks: true,
  testTimeout: timeoutMs,
  setupFiles: ['reflect-metadata'],
});
