#include "platform/storage/sqlite/migrations.h"

#include <string>

namespace agora::storage::sqlite {

namespace {

// Conventions: `seq` is the ordering key for pagination (ids are random); `owner_id` is the
// tenant column on every owned table, leading every index that a tenant query uses.
constexpr const char* kV1Initial = R"sql(
CREATE TABLE organizations (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);
CREATE TABLE users (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL UNIQUE,
  org_id TEXT REFERENCES organizations(id),
  password_hash TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
);
CREATE TABLE api_keys (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  prefix TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  revoked_at INTEGER
);
CREATE INDEX api_keys_user ON api_keys(user_id);
CREATE INDEX api_keys_prefix ON api_keys(prefix);

CREATE TABLE files (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  owner_id TEXT NOT NULL REFERENCES users(id),
  filename TEXT NOT NULL,
  purpose TEXT NOT NULL,
  bytes INTEGER NOT NULL CHECK (bytes >= 0),
  created_at INTEGER NOT NULL
);
CREATE INDEX files_owner ON files(owner_id, seq);

CREATE TABLE assistants (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  owner_id TEXT NOT NULL REFERENCES users(id),
  created_at INTEGER NOT NULL,
  name TEXT,
  description TEXT,
  model TEXT NOT NULL,
  instructions TEXT,
  tools TEXT NOT NULL CHECK (json_valid(tools)),
  tool_resources TEXT NOT NULL CHECK (json_valid(tool_resources)),
  metadata TEXT NOT NULL CHECK (json_valid(metadata)),
  temperature REAL,
  top_p REAL,
  response_format TEXT NOT NULL CHECK (json_valid(response_format))
);
CREATE INDEX assistants_owner ON assistants(owner_id, seq);

CREATE TABLE threads (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  owner_id TEXT NOT NULL REFERENCES users(id),
  created_at INTEGER NOT NULL,
  tool_resources TEXT NOT NULL CHECK (json_valid(tool_resources)),
  metadata TEXT NOT NULL CHECK (json_valid(metadata))
);
CREATE INDEX threads_owner ON threads(owner_id, seq);

CREATE TABLE messages (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  owner_id TEXT NOT NULL,
  thread_id TEXT NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
  content TEXT NOT NULL CHECK (json_valid(content)),
  attachments TEXT NOT NULL CHECK (json_valid(attachments)),
  metadata TEXT NOT NULL CHECK (json_valid(metadata)),
  assistant_id TEXT,
  run_id TEXT,
  status TEXT NOT NULL CHECK (status IN ('in_progress', 'incomplete', 'completed')),
  completed_at INTEGER,
  incomplete_at INTEGER,
  incomplete_details TEXT CHECK (incomplete_details IS NULL OR json_valid(incomplete_details))
);
CREATE INDEX messages_thread ON messages(owner_id, thread_id, seq);
CREATE INDEX messages_run ON messages(run_id) WHERE run_id IS NOT NULL;

CREATE TABLE runs (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  owner_id TEXT NOT NULL,
  thread_id TEXT NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
  assistant_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'in_progress', 'requires_action', 'cancelling',
                                         'cancelled', 'failed', 'completed', 'incomplete', 'expired')),
  model TEXT NOT NULL,
  instructions TEXT NOT NULL,
  additional_instructions TEXT,
  tools TEXT NOT NULL CHECK (json_valid(tools)),
  metadata TEXT NOT NULL CHECK (json_valid(metadata)),
  temperature REAL,
  top_p REAL,
  max_prompt_tokens INTEGER,
  max_completion_tokens INTEGER,
  truncation_strategy TEXT NOT NULL CHECK (json_valid(truncation_strategy)),
  tool_choice TEXT NOT NULL CHECK (json_valid(tool_choice)),
  parallel_tool_calls INTEGER NOT NULL,
  response_format TEXT NOT NULL CHECK (json_valid(response_format)),
  required_action TEXT CHECK (required_action IS NULL OR json_valid(required_action)),
  last_error_code TEXT,
  last_error_message TEXT,
  incomplete_details TEXT CHECK (incomplete_details IS NULL OR json_valid(incomplete_details)),
  usage TEXT CHECK (usage IS NULL OR json_valid(usage)),
  started_at INTEGER,
  expires_at INTEGER,
  cancelled_at INTEGER,
  failed_at INTEGER,
  completed_at INTEGER
);
CREATE INDEX runs_thread ON runs(owner_id, thread_id, seq);
-- At most one active run per thread.
CREATE UNIQUE INDEX runs_one_active ON runs(thread_id)
  WHERE status IN ('queued', 'in_progress', 'requires_action', 'cancelling');

CREATE TABLE run_steps (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  owner_id TEXT NOT NULL,
  thread_id TEXT NOT NULL,
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  assistant_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('message_creation', 'tool_calls')),
  status TEXT NOT NULL CHECK (status IN ('in_progress', 'cancelled', 'failed', 'completed', 'expired')),
  step_details TEXT NOT NULL CHECK (json_valid(step_details)),
  last_error_code TEXT,
  last_error_message TEXT,
  usage TEXT CHECK (usage IS NULL OR json_valid(usage)),
  completed_at INTEGER,
  cancelled_at INTEGER,
  failed_at INTEGER,
  expired_at INTEGER
);
CREATE INDEX run_steps_run ON run_steps(owner_id, run_id, seq);
)sql";

// Responses + Conversations APIs and the web app: conversations and their items, stored
// responses with their stream events (for background replay), browser sessions, API key names,
// and the admin-editable instruction presets.
constexpr const char* kV2Conversations = R"sql(
CREATE TABLE conversations (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  owner_id TEXT NOT NULL REFERENCES users(id),
  created_at INTEGER NOT NULL,
  metadata TEXT NOT NULL CHECK (json_valid(metadata))
);
CREATE INDEX conversations_owner ON conversations(owner_id, seq);

CREATE TABLE conversation_items (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  owner_id TEXT NOT NULL,
  conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  type TEXT NOT NULL,
  item TEXT NOT NULL CHECK (json_valid(item)),
  UNIQUE (conversation_id, id)
);
CREATE INDEX conversation_items_conv ON conversation_items(owner_id, conversation_id, seq);

CREATE TABLE responses (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  owner_id TEXT NOT NULL REFERENCES users(id),
  created_at INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'in_progress', 'completed', 'failed', 'cancelled', 'incomplete')),
  background INTEGER NOT NULL,
  model TEXT NOT NULL,
  previous_response_id TEXT,
  conversation_id TEXT,
  object TEXT NOT NULL CHECK (json_valid(object)),
  input_items TEXT NOT NULL CHECK (json_valid(input_items))
);
CREATE INDEX responses_owner ON responses(owner_id, seq);
CREATE INDEX responses_unfinished ON responses(status) WHERE status IN ('queued', 'in_progress');

CREATE TABLE response_events (
  response_id TEXT NOT NULL REFERENCES responses(id) ON DELETE CASCADE,
  owner_id TEXT NOT NULL,
  sequence_number INTEGER NOT NULL,
  type TEXT NOT NULL,
  data TEXT NOT NULL CHECK (json_valid(data)),
  PRIMARY KEY (response_id, sequence_number)
) WITHOUT ROWID;

CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf_token TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_key_names (
  key_id TEXT PRIMARY KEY REFERENCES api_keys(id) ON DELETE CASCADE,
  name TEXT NOT NULL
);

CREATE TABLE modes (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  instructions TEXT NOT NULL
);
INSERT INTO modes (id, name, description, instructions) VALUES
  ('regular', 'Regular', 'Clear, helpful answers.',
   'You are Agora, a helpful assistant. Answer clearly and accurately. Use Markdown when it helps.'),
  ('fun', 'Fun', 'Witty and irreverent, still accurate.',
   'You are Agora in fun mode: witty, playful and a little irreverent, but always accurate and helpful. Keep the jokes short and the facts right. Use Markdown when it helps.');
)sql";

constexpr Migration kMigrations[] = {
    {1, "initial schema: accounts, files, assistants, threads, messages, runs, run steps", kV1Initial},
    {2, "conversations, items, responses, response events, sessions, key names, modes", kV2Conversations},
};

StoreResult<int> read_version(Db& db) {
  auto s = db.prepare("PRAGMA user_version");
  if (!s) return s.status();
  StmtUse use(*s);
  const int rc = use->step();
  if (rc != SQLITE_ROW) return db.error(rc, "cannot read the schema version");
  return static_cast<int>(use->i64(0));
}

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

StoreResult<int> migrate(Db& db) {
  const int known = static_cast<int>(std::size(kMigrations));
  for (;;) {
    auto current = read_version(db);
    if (!current) return current;
    if (*current > known) {
      return StoreStatus{StoreErrc::internal, "the database schema is version " + std::to_string(*current) +
                                                  " but this agora knows only up to " + std::to_string(known) +
                                                  ": use a newer agora"};
    }
    if (*current == known) return known;
    // Another process (a server, an admin command) may migrate concurrently: take the write
    // lock, re-read the version inside the transaction, and apply only what is still missing.
    Transaction txn(db);
    if (auto st = txn.begin(); !st.ok()) return st;
    auto again = read_version(db);
    if (!again) return again;
    if (*again != *current) continue;  // someone else advanced it; look again
    const Migration& m = kMigrations[*current];
    if (auto st = db.exec(m.sql, std::string("migration ") + std::to_string(m.version) + " failed"); !st.ok()) return st;
    const std::string bump = "PRAGMA user_version=" + std::to_string(m.version);
    if (auto st = db.exec(bump.c_str(), "cannot set the schema version"); !st.ok()) return st;
    if (auto st = txn.commit(); !st.ok()) return st;
  }
}

}  // namespace agora::storage::sqlite
