/**
 * The open-vocabulary language model for an agent config: domain sentences (corpus.ts) as an ARPA
 * trigram, written once to a temp file the decoders load by path. Same config → same file name,
 * so decoder processes keep the model they already have.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentConfig } from '../../config/agent-schema.js';
import { BUILT_IN_FIRST_NAMES } from '../slots/names.js';
import { buildArpa } from './arpa.js';
import { domainSentences, GENERAL_WORDS } from './corpus.js';

export function domainArpa(config: AgentConfig): string {
  const slots = config.slots;
  const names = [...new Set([...(slots.useBuiltInNames ? BUILT_IN_FIRST_NAMES : []), ...slots.names])];
  const sentences = domainSentences({ intents: config.offline.intents, services: config.business.services, names });
  return buildArpa(sentences, { extraWords: GENERAL_WORDS });
}

/** Writes the model (if not there yet) and returns its path. */
export function writeDomainLm(config: AgentConfig, dir = join(tmpdir(), 'voice-agent-lm')): string {
  const arpa = domainArpa(config);
  const hash = createHash('sha256').update(arpa).digest('hex').slice(0, 16);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `domain-${hash}.arpa`);
  if (!existsSync(path)) writeFileSync(path, arpa, { mode: 0o644 });
  return path;
}
