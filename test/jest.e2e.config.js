// End-to-end tests start the real Nest app over HTTP on the onnx demo model.
module.exports = { ...require('./jest.base')('e2e', 'e2e-spec', 300_000), maxWorkers: 1 };
