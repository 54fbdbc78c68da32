/**
 * Commands for calls held by other workers, through PostgreSQL: the `call_commands` row is the
 * durable record; `NOTIFY voice_call_commands` (delivered at commit, never replayed) wakes the
 * owning worker at once. A dedicated connection LISTENs (not the pool: a pooled connection would
 * drop the subscription when returned) and reconnects with backoff; on every (re)connect and on a
 * slow sweep the worker also reads its pending rows, so a wake-up lost to a reconnect only delays
 * a command, never loses it.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';
import type { CallCommand, CallCommandPort } from '../ports.js';
import { query, type Pool } from './pool.js';
import { COMMAND_COLUMNS as columns, toCommand, type CommandRow } from '../rows.js';

const CHANNEL = 'voice_call_commands';
const SWEEP_MS = 5000;

export class PostgresCommands implements CallCommandPort {
  constructor(
    private readonly pool: Pool,
    private readonly connectionString: string,
    private readonly logger: Logger,
  ) {}

  async issue(command: Omit<CallCommand, 'id' | 'createdAt'>): Promise<CallCommand> {
    const result = await query<CommandRow>(
      this.pool,
      `WITH c AS (
         INSERT INTO call_commands (id, call_sid, worker_id, kind, target) VALUES ($1, $2, $3, $4, $5) RETURNING ${columns})
       SELECT c.*, pg_notify('${CHANNEL}', json_build_object('id', c.id, 'workerId', c.worker_id)::text) FROM c`,
      [randomUUID(), command.callSid, command.workerId, command.kind, command.to ?? null],
    );
    return toCommand(result.rows[0]!);
  }

  async pending(workerId: string): Promise<CallCommand[]> {
    const result = await query<CommandRow>(
      this.pool,
      `SELECT ${columns} FROM call_commands WHERE worker_id = $1 AND completed_at IS NULL ORDER BY created_at`,
      [workerId],
    );
    return result.rows.map(toCommand);
  }

  async complete(id: string, outcome: 'done' | 'not-live' | 'failed'): Promise<void> {
    await query(this.pool, 'UPDATE call_commands SET completed_at = now(), outcome = $2 WHERE id = $1 AND completed_at IS NULL', [id, outcome]);
  }

  async subscribe(workerId: string, onCommand: (command: CallCommand) => void): Promise<() => Promise<void>> {
    const seen = new Set<string>();
    let stopped = false;
    let client: pg.Client | undefined;
    let retryTimer: NodeJS.Timeout | undefined;
    let backoffMs = 250;

    const deliver = (command: CallCommand) => {
      if (seen.has(command.id)) return;
      seen.add(command.id);
      onCommand(command);
    };
    const sweep = async () => {
      try {
        for (const command of await this.pending(workerId)) deliver(command);
      } catch (error) {
        this.logger.warn({ err: error }, 'could not read pending call commands');
      }
    };
    const reconnectLater = () => {
      if (stopped || retryTimer) return;
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        void connect();
      }, backoffMs);
      backoffMs = Math.min(backoffMs * 2, 10_000);
    };
    const connect = async () => {
      const next = new pg.Client({ connectionString: this.connectionString, application_name: 'voice-agent-listen' });
      next.on('error', (error) => {
        this.logger.warn({ err: error }, 'call-command listener lost its connection; reconnecting');
        void next.end().catch(() => undefined);
        if (client === next) client = undefined;
        reconnectLater();
      });
      next.on('notification', (message) => {
        if (isNotificationFor(message, workerId)) void sweep();
      });
      try {
        await next.connect();
        await next.query(`LISTEN ${CHANNEL}`);
        if (stopped) return void (await next.end());
        client = next;
        backoffMs = 250;
        await sweep();
      } catch (error) {
        this.logger.warn({ err: error }, 'call-command listener could not connect; retrying');
        void next.end().catch(() => undefined);
        reconnectLater();
      }
    };

    await connect();
    const sweeper = setInterval(() => void sweep(), SWEEP_MS);
    sweeper.unref();
    return async () => {
      stopped = true;
      clearInterval(sweeper);
      clearTimeout(retryTimer);
      await client?.end().catch(() => undefined);
    };
  }
}

/** A NOTIFY on our channel naming this worker (the payload only wakes the sweep; the row is the record). */
export function isNotificationFor(message: { channel: string; payload?: string | undefined }, workerId: string): boolean {
  if (message.channel !== CHANNEL || !message.payload) return false;
  try {
    return (JSON.parse(message.payload) as { workerId?: unknown }).workerId === workerId;
  } catch {
    return false;
  }
}
