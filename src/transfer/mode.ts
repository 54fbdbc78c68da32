/** Which transfer mode runs: the config's, else warm when Twilio can be driven (credentials + PUBLIC_URL). */
import type { AgentConfig } from '../config/agent-schema.js';
import type { ServerConfig } from '../config/env.js';

export interface TransferModeDecision {
  mode: 'warm' | 'cold';
  /** Why a configured warm mode cannot run, if so (logged once at startup). */
  downgraded?: string;
}

export function resolveTransferMode(agent: AgentConfig, config: ServerConfig): TransferModeDecision {
  const credentials = Boolean(config.twilio.accountSid && config.twilio.authToken);
  const wanted = agent.transfer.mode ?? (credentials ? 'warm' : 'cold');
  if (wanted === 'warm' && credentials && !config.publicUrl) {
    // Twilio's conference and whisper callbacks are signed over absolute URLs we must know.
    return { mode: 'cold', downgraded: 'transfer.mode warm needs PUBLIC_URL (the callbacks Twilio signs); using cold transfers' };
  }
  return { mode: wanted };
}
