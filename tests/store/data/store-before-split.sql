BEGIN TRANSACTION;
CREATE TABLE counters (
    key        TEXT PRIMARY KEY,
    count      INTEGER NOT NULL,
    expires_at REAL NOT NULL
);
INSERT INTO "counters" VALUES('chat:198.51.100.7:1799971200',2,2.42667050886863517765e+09);
CREATE TABLE leads (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL,
    kind       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    session_id TEXT,
    email      TEXT,
    name       TEXT,
    notes      TEXT,
    question   TEXT
);
INSERT INTO "leads" VALUES(1,'lead-1','contact',1800000000000,'5b1d4a5e-0c1f-4e7c-9d55-1d2b3c4d5e6f','ada@example.com','Ada','a job',NULL);
INSERT INTO "leads" VALUES(2,'lead-2','question',1800000000001,NULL,NULL,NULL,NULL,'Do you speak Welsh?');
CREATE TABLE messages (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    role       TEXT NOT NULL,
    body       TEXT NOT NULL
);
INSERT INTO "messages" VALUES(1,'5b1d4a5e-0c1f-4e7c-9d55-1d2b3c4d5e6f','user','{"role":"user","content":"What is 2+2? ünïcode ✓","timestamp":1800000000001}');
INSERT INTO "messages" VALUES(2,'5b1d4a5e-0c1f-4e7c-9d55-1d2b3c4d5e6f','assistant','{"role":"assistant","content":"","timestamp":1800000000002,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"calculate","arguments":"{\"expression\":\"2+2\"}"}}]}');
INSERT INTO "messages" VALUES(3,'5b1d4a5e-0c1f-4e7c-9d55-1d2b3c4d5e6f','tool','{"role":"tool","content":"Result: 4","timestamp":1800000000003,"tool_call_id":"call_1","name":"calculate"}');
INSERT INTO "messages" VALUES(4,'5b1d4a5e-0c1f-4e7c-9d55-1d2b3c4d5e6f','assistant','{"role":"assistant","content":"It is 4.","timestamp":1800000000004}');
CREATE TABLE reminders (
    id           TEXT PRIMARY KEY,
    session_id   TEXT NOT NULL,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    due_at       INTEGER NOT NULL,
    due_iso      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    status       TEXT NOT NULL,      -- pending, claimed, delivered, failed
    attempts     INTEGER NOT NULL DEFAULT 0,
    delivered_at INTEGER,
    claimable_at INTEGER NOT NULL    -- pending: due or retry time; claimed: end of the lease
);
INSERT INTO "reminders" VALUES('0123456789abcdef0123456789abcdef','5b1d4a5e-0c1f-4e7c-9d55-1d2b3c4d5e6f','Call Ada','about the job',1800003600000,'2027-01-15T10:00:00+02:00',1800000000000,'pending',0,NULL,1800003600000);
CREATE TABLE sessions (
    id            TEXT PRIMARY KEY,
    visitor       TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_activity INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
INSERT INTO "sessions" VALUES('5b1d4a5e-0c1f-4e7c-9d55-1d2b3c4d5e6f','198.51.100.7',1800000000000,1800000000005,2430720000005);
CREATE INDEX sessions_by_visitor ON sessions (visitor, created_at);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE INDEX messages_by_session ON messages (session_id, seq);
CREATE INDEX reminders_by_session ON reminders (session_id, due_at);
CREATE INDEX reminders_claimable ON reminders (claimable_at)
    WHERE status IN ('pending', 'claimed');
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('messages',4);
INSERT INTO "sqlite_sequence" VALUES('leads',2);
COMMIT;
