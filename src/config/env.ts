/**
 * Server configuration from the environment: read once at startup, validated, frozen.
 * The only module that reads `process.env` (server.ts passes it in).
 */
import { z } from 'zod';

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const optionalUrl = (protocols: string[]) =>
  optionalString.refine(
    (v) => {
      if (v === undefined) return true;
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `expected a URL (${protocols.join(' or ')})` },
  );

const envSchema = z.object({
  HOST: z.string().default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  PUBLIC_URL: optionalUrl(['https:', 'http:']).transform((v) => v?.replace(/\/+$/, '')),
  TRUST_PROXY: optionalString,
  TWILIO_AUTH_TOKEN: optionalString,
  /** Signs the per-call stream ticket when TWILIO_AUTH_TOKEN is unset; share it between instances. */
  STREAM_SECRET: optionalString.refine((v) => v === undefined || v.length >= 16, { message: 'use at least 16 characters' }),
  TWILIO_ACCOUNT_SID: optionalString,
  TWILIO_API_URL: optionalUrl(['https:', 'http:']),
  TRANSFER_NUMBER: optionalString,
  DEEPGRAM_API_KEY: optionalString,
  DEEPGRAM_URL: optionalUrl(['wss:', 'ws:', 'https:', 'http:']),
  ANTHROPIC_API_KEY: optionalString,
  ANTHROPIC_BASE_URL: optionalUrl(['https:', 'http:']),
  ELEVENLABS_API_KEY: optionalString,
  ELEVENLABS_VOICE_ID: optionalString,
  ELEVENLABS_BASE_URL: optionalUrl(['https:', 'http:', 'wss:', 'ws:']),
  AGENT_CONFIG: z.string().min(1).default('config/agent.yaml'),
  DATA_DIR: z.string().min(1).default('./data'),
  ADMIN_TOKEN: optionalString,
  MAX_CONCURRENT_CALLS: z.coerce.number().int().min(1).default(50),
  /** Open media sockets per client address (Twilio's media servers carry many calls from one address). */
  MAX_SOCKETS_PER_ADDRESS: z.coerce.number().int().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DRAIN_TIMEOUT_MS: z.coerce.number().int().min(0).default(30_000),
  DATABASE_URL: optionalUrl(['postgres:', 'postgresql:']),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(1000).default(10),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).default(3000),
  DATABASE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).default(3000),
  WORKERS: z.union([z.literal('auto'), z.coerce.number().int().min(1).max(256)]).default(1),
  /** How long a live call's registry row stays good without a heartbeat from its worker. */
  LIVE_CALL_LEASE_MS: z.coerce.number().int().min(1000).default(15_000),
  /** Event-loop delay p99 above which /readyz reports the worker too slow for new calls. */
  LOOP_DELAY_MAX_MS: z.coerce.number().int().min(1).default(80),
  /** Where the offline engines' system binaries are looked up at startup. */
  PATH: z.string().default('/usr/local/bin:/usr/bin:/bin'),
});

export interface ServerConfig {
  host: string;
  port: number;
  publicUrl: string | undefined;
  /** Fastify `trustProxy`: addresses/CIDRs whose X-Forwarded-* headers are believed; undefined = none. */
  trustProxy: string[] | undefined;
  /** Optional shared secret for stream tickets (see src/routes/stream-ticket.ts). */
  streamSecret: string | undefined;
  maxSocketsPerAddress: number;
  twilio: { authToken: string | undefined; accountSid: string | undefined; apiUrl: string | undefined; transferNumber: string | undefined };
  deepgram: { apiKey: string | undefined; url: string | undefined };
  anthropic: { apiKey: string | undefined; baseUrl: string | undefined };
  elevenlabs: { apiKey: string | undefined; voiceId: string | undefined; baseUrl: string | undefined };
  agentConfigPath: string;
  dataDir: string;
  adminToken: string | undefined;
  maxConcurrentCalls: number;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  drainTimeoutMs: number;
  searchPath: string;
  /** Set: the shared PostgreSQL store; unset: the embedded store under dataDir. */
  database: { url: string; poolMax: number; statementTimeoutMs: number; connectTimeoutMs: number } | undefined;
  /** Worker processes on this machine (`auto` = one per core). */
  workers: number | 'auto';
  liveCallLeaseMs: number;
  loopDelayMaxMs: number;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export function loadServerConfig(env: Record<string, string | undefined>): ServerConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid environment: ${problems}`);
  }
  const e = parsed.data;
  const trustProxy = e.TRUST_PROXY?.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
  if (e.TWILIO_AUTH_TOKEN && !e.PUBLIC_URL && !trustProxy?.length) {
    throw new ConfigError(
      'TWILIO_AUTH_TOKEN is set but neither PUBLIC_URL nor TRUST_PROXY is: set PUBLIC_URL to the https:// address Twilio ' +
        'calls (e.g. https://agent.example.com), or TRUST_PROXY to the reverse proxies whose X-Forwarded-Host/Proto may be ' +
        'believed (e.g. 127.0.0.1 for a tunnel on this machine). Without either, a signature made for any other host on ' +
        'your Twilio account would be accepted.',
    );
  }
  return Object.freeze({
    host: e.HOST,
    port: e.PORT,
    publicUrl: e.PUBLIC_URL,
    trustProxy: trustProxy?.length ? trustProxy : undefined,
    streamSecret: e.STREAM_SECRET,
    maxSocketsPerAddress: e.MAX_SOCKETS_PER_ADDRESS ?? e.MAX_CONCURRENT_CALLS + 10,
    twilio: { authToken: e.TWILIO_AUTH_TOKEN, accountSid: e.TWILIO_ACCOUNT_SID, apiUrl: e.TWILIO_API_URL, transferNumber: e.TRANSFER_NUMBER },
    deepgram: { apiKey: e.DEEPGRAM_API_KEY, url: e.DEEPGRAM_URL },
    anthropic: { apiKey: e.ANTHROPIC_API_KEY, baseUrl: e.ANTHROPIC_BASE_URL },
    elevenlabs: { apiKey: e.ELEVENLABS_API_KEY, voiceId: e.ELEVENLABS_VOICE_ID, baseUrl: e.ELEVENLABS_BASE_URL },
    agentConfigPath: e.AGENT_CONFIG,
    dataDir: e.DATA_DIR,
    adminToken: e.ADMIN_TOKEN,
    maxConcurrentCalls: e.MAX_CONCURRENT_CALLS,
    logLevel: e.LOG_LEVEL,
    drainTimeoutMs: e.DRAIN_TIMEOUT_MS,
    searchPath: e.PATH,
    database: e.DATABASE_URL
      ? {
          url: e.DATABASE_URL,
          poolMax: e.DATABASE_POOL_MAX,
          statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
          connectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_MS,
        }
      : undefined,
    workers: e.WORKERS,
    liveCallLeaseMs: e.LIVE_CALL_LEASE_MS,
    loopDelayMaxMs: e.LOOP_DELAY_MAX_MS,
  });
}
