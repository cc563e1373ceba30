// Medium tests use real ffmpeg, sharp and onnxruntime (CPU); they run serially to keep 2 cores honest.
module.exports = { ...require('./jest.base')('medium', 'medium-spec', 300_000), maxWorkers: 1 };
