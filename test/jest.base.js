// Shared jest settings; each test layer has its own config (unit, medium, e2e).
const path = require('path');
module.exports = (layer, pattern, timeoutMs) => ({
  rootDir: path.resolve(__dirname, '..'),
  displayName: layer,
  testEnvironment: 'node',
  testMatch: [`<rootDir>/test/${layer}/**/*.${pattern}.ts`],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  clearMocks: true,
  testTimeout: timeoutMs,
  setupFiles: ['reflect-metadata'],
});
