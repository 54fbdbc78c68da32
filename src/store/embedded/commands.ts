/**
 * Commands for calls held by another worker of this machine. The runtime.db row is the durable
 * record; the wake-up goes through cluster IPC (worker → primary → every worker, see
 * src/cluster/primary.ts) or, in a single process, straight to the local subscriber. A slow sweep
 * of pending rows covers a wake-up that never came (a worker restarting).
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { CallCommand, CallCommandPort } from '../ports.js';
import type { RuntimeDb } from './runtime-db.js';
import { toCommand, type CommandRow } from '../rows.js';

/** The IPC message a worker sends (and the primary relays to all workers) after issuing a command. */
export const CALL_COMMAND_MESSAGE = 'voice:call-command';

export interface CallCommandMessage {
  type: typeof CALL_COMMAND_MESSAGE;
  workerId: string;
}

export function isCallCommandMessage(message: unknown): message is CallCommandMessage {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === CALL_COMMAND_MESSAGE;
}

const SWEEP_MS = 2000;

export class EmbeddedCommands implements CallCommandPort {
  /** Wake-ups within this process (single-process mode, or a command for a call held here). */
  private readonly local = new EventEmitter();

  constructor(
    private readonly db: RuntimeDb,
    private readonly now: () => number = Date.now,
  ) {}

  async issue(command: Omit<CallCommand, 'id' | 'createdAt'>): Promise<CallCommand> {
    const issued: CallCommand = { ...command, id: randomUUID(), createdAt: new Date(this.now()).toISOString() };
    this.db
      .prepare('INSERT INTO call_commands (id, call_sid, worker_id, kind, target, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(issued.id, issued.callSid, issued.workerId, issued.kind, issued.to ?? null, issued.createdAt);
    const message: CallCommandMessage = { type: CALL_COMMAND_MESSAGE, workerId: issued.workerId };
    this.local.emit('wake', message.workerId);
    process.send?.(message);
    return issued;
  }

  async pending(workerId: string): Promise<CallCommand[]> {
    const rows = this.db
      .prepare('SELECT id, call_sid, worker_id, kind, target, created_at FROM call_commands WHERE worker_id = ? AND completed_at IS NULL ORDER BY created_at')
      .all(workerId) as CommandRow[];
    return rows.map(toCommand);
  }

  async complete(id: string, outcome: 'done' | 'not-live' | 'failed'): Promise<void> {
    this.db
      .prepare('UPDATE call_commands SET completed_at = ?, outcome = ? WHERE id = ? AND completed_at IS NULL')
      .run(new Date(this.now()).toISOString(), outcome, id);
  }

  async subscribe(workerId: string, onCommand: (command: CallCommand) => void): Promise<() => Promise<void>> {
    const seen = new Set<string>();
    const sweep = async () => {
      for (const command of await this.pending(workerId)) {
        if (seen.has(command.id)) continue;
        seen.add(command.id);
        onCommand(command);
      }
    };
    const wake = (target: string) => target === workerId && void sweep();
    const onIpc = (message: unknown) => isCallCommandMessage(message) && wake(message.workerId);
    this.local.on('wake', wake);
    process.on('message', onIpc);
    const sweeper = setInterval(() => void sweep(), SWEEP_MS);
    sweeper.unref();
    await sweep();
    return async () => {
      clearInterval(sweeper);
      this.local.off('wake', wake);
      process.off('message', onIpc);
    };
  }
}
