/**
 * Entry point of `npm run twilio:connect`: the only place this command reads process.argv and
 * process.env. All logic lives in src/ops/twilio-connect.ts.
 */
import { twilioConnect } from '../ops/twilio-connect.js';

process.exitCode = await twilioConnect(process.argv.slice(2), process.env, {
  log: (line) => console.log(line),
  error: (line) => console.error(line),
});
