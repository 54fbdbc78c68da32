/** Writes the open-vocabulary language model for config/agent.yaml to a file (for inspection). */
import { writeFileSync } from 'node:fs';
import { loadAgentConfig } from '../../src/config/load-agent-config.js';
import { domainArpa } from '../../src/dialog/understanding/domain-lm.js';

const out = process.argv[2] ?? 'domain.arpa';
const arpa = domainArpa(loadAgentConfig('config/agent.yaml'));
writeFileSync(out, arpa);
console.log(arpa.split('\n').slice(0, 5).join('\n'));
