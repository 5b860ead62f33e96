// The browser tests: `node --test tests/browser/` with OHJAAMO_URL (the core) and
// OHJAAMO_SIM_URL (the simulator, started with --speed 0) in the environment;
// tests/e2e_browser.rs starts both and runs this. One file, so that the suites run
// one after another: they share one core and one simulated clock.

import { recoverySuite } from './recovery.mjs';
import { bedsSuite } from './beds.mjs';

recoverySuite();
bedsSuite();
