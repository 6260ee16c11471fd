// Preloaded with NODE_OPTIONS="--require ..." (which refuses --cpu-prof): profiles the whole
// process with the inspector and writes a .cpuprofile to CPU_PROFILE_DIR when it is told to stop.
const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const session = new Session();
session.connect();
session.post('Profiler.enable', () => session.post('Profiler.start'));
let written = false;
function write() {
  if (written) return;
  written = true;
  session.post('Profiler.stop', (err, { profile }) => {
    if (!err) writeFileSync(join(process.env.CPU_PROFILE_DIR || '.', `gateway-${process.pid}.cpuprofile`), JSON.stringify(profile));
    process.exit(0);
  });
}
process.prependListener('SIGTERM', write);
process.prependListener('SIGINT', write);
