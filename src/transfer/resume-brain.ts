/**
 * For brains without their own resume (Claude): a call back from a transfer nobody took opens
 * with `line` instead of the greeting; the restored history carries the rest, and the model takes
 * the callback with `request_callback`. The flow brain resumes natively (flow-brain.ts).
 */
import type { AgentConfig } from '../config/agent-schema.js';
import type { Brain, BrainEvent, BrainSession } from '../dialog/brain.js';

/** What Claude says first to a caller back from a transfer nobody took. */
export function backFromHoldLine(agent: AgentConfig): string {
  return `${agent.transfer.messages.backFromHold} ${agent.transfer.messages.callbackOffer} What number should we call you on?`;
}

export function withResumeLine(inner: Brain, line: string): Brain {
  return {
    name: inner.name,
    createSession(context) {
      const session = inner.createSession(context);
      if (!context.resume) return session;
      let opened = false;
      const wrapped: BrainSession = {
        turn(input, options) {
          if (opened || input.type !== 'call-start') return session.turn(input, options);
          opened = true;
          return (async function* (): AsyncGenerator<BrainEvent> {
            yield { type: 'text', text: line };
          })();
        },
        ...(session.interrupted ? { interrupted: (heard: string) => session.interrupted!(heard) } : {}),
        ...(session.snapshot ? { snapshot: () => session.snapshot!() } : {}),
      };
      return wrapped;
    },
  };
}
