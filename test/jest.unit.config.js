module.exports = require('./jest.base')('unit', 'spec', 20_000);
