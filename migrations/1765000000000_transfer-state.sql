-- Warm-transfer state shared by every worker on every machine (src/store/postgres/transfers.ts):
-- attempts (moved by compare-and-set), the conversation a call resumes from, callback requests.
-- Up Migration

CREATE TABLE transfer_attempts (
  id uuid PRIMARY KEY,
  -- Insertion order for a call's attempts (two created in the same millisecond stay in order).
  seq bigint GENERATED ALWAYS AS IDENTITY,
  call_sid text NOT NULL,
  from_number text NOT NULL,
  to_number text NOT NULL,
  mode text NOT NULL CHECK (mode IN ('warm', 'cold')),
  topic text NOT NULL,
  target_label text NOT NULL,
  target_number text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'ringing', 'answered', 'returning', 'resumed', 'ended')),
  outcome text CHECK (outcome IN ('answered', 'no-answer', 'busy', 'declined', 'timeout', 'failed', 'caller-hung-up', 'cancelled')),
  person_call_sid text,
  whisper text,
  created_at timestamptz NOT NULL,
  hold_started_at timestamptz,
  answered_at timestamptz,
  ended_at timestamptz,
  time_to_human_ms integer,
  -- The server-side hold timeout: past it, any worker brings the caller back.
  deadline_at timestamptz
);
CREATE INDEX transfer_attempts_by_call ON transfer_attempts (call_sid, seq);
CREATE INDEX transfer_attempts_by_deadline ON transfer_attempts (status, deadline_at) WHERE deadline_at IS NOT NULL;

CREATE TABLE call_snapshots (
  call_sid text PRIMARY KEY,
  snapshot jsonb NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE callback_requests (
  id uuid PRIMARY KEY,
  call_sid text NOT NULL,
  phone text NOT NULL,
  date text NOT NULL,
  time text NOT NULL,
  topic text NOT NULL,
  note text NOT NULL,
  status text NOT NULL CHECK (status IN ('open', 'done')),
  created_at timestamptz NOT NULL
);
CREATE INDEX callback_requests_by_status ON callback_requests (status, date, time);

-- Down Migration
DROP TABLE callback_requests;
DROP TABLE call_snapshots;
DROP TABLE transfer_attempts;
