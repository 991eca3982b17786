'use strict';
// osls loads plugins with require(); the plugin is TypeScript, so tsx compiles it on load.
require('tsx/cjs/api').register();
module.exports = require('./plugin.ts').default;
