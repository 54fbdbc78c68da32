-- The shared state of every worker on every machine (node-pg-migrate SQL migration).
-- Up Migration

CREATE TABLE slots (
  date text NOT NULL,
  time text NOT NULL,
  PRIMARY KEY (date, time)
);

CREATE TABLE bookings (
  id text PRIMARY KEY,
  name text NOT NULL,
  phone text NOT NULL,
  date text NOT NULL,
  time text NOT NULL,
  service text,
  status text NOT NULL CHECK (status IN ('booked', 'cancelled')),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  FOREIGN KEY (date, time) REFERENCES slots (date, time)
);

-- The double-booking guard: at most one live booking per slot, enforced by PostgreSQL, so two
-- calls on two machines racing for a slot cannot both commit.
CREATE UNIQUE INDEX bookings_one_live_per_slot ON bookings (date, time) WHERE status = 'booked';
CREATE INDEX bookings_by_phone ON bookings (phone, status, date, time);

-- Call records (redacted JSON, the contract's shape), written at start and at the end of a call.
CREATE TABLE call_records (
  call_sid text PRIMARY KEY,
  started_at timestamptz NOT NULL,
  ended_at timestamptz,
  record jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX call_records_by_start ON call_records (started_at);

-- One row per live call: the unique key is what refuses a duplicate stream for a call live elsewhere.
CREATE TABLE live_calls (
  call_sid text PRIMARY KEY,
  stream_sid text NOT NULL,
  worker_id text NOT NULL,
  machine text NOT NULL,
  started_at timestamptz NOT NULL,
  state text NOT NULL,
  lease_until timestamptz NOT NULL
);
CREATE INDEX live_calls_by_worker ON live_calls (worker_id);
CREATE INDEX live_calls_by_lease ON live_calls (lease_until);

-- Commands for a call held by another worker: the durable record; NOTIFY is only the wake-up.
CREATE TABLE call_commands (
  id uuid PRIMARY KEY,
  call_sid text NOT NULL,
  worker_id text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('hangup', 'transfer')),
  target text,
  created_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  outcome text CHECK (outcome IN ('done', 'not-live', 'failed'))
);
CREATE INDEX call_commands_pending ON call_commands (worker_id, created_at) WHERE completed_at IS NULL;

-- Small JSON documents that outlive a call (transfer state, callback requests).
CREATE TABLE documents (
  kind text NOT NULL,
  key text NOT NULL,
  value jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  PRIMARY KEY (kind, key)
);
CREATE INDEX documents_by_kind ON documents (kind, updated_at DESC);

-- Down Migration
DROP TABLE documents;
DROP TABLE call_commands;
DROP TABLE live_calls;
DROP TABLE call_records;
DROP TABLE bookings;
DROP TABLE slots;
