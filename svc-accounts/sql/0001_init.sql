-- 0001_init.sql - svc-accounts: accounts and e-mail verification tokens (the
-- event outbox tables come from lib: gch_db_migrate applies them as migration 0).
--
-- Runs in the service's own schema (the role's search_path); gch_db_migrate
-- wraps this file in one transaction and records its version, so there is
-- no BEGIN/COMMIT here. Never edit this file once merged: add 0002_*.sql.

CREATE TABLE account (
    id            bigserial PRIMARY KEY,
    email         text NOT NULL UNIQUE CHECK (email !~ '[A-Z]'),
    password_hash text,
    display_name  text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    kind          text NOT NULL CHECK (kind IN ('citizen', 'agent')),
    verified      boolean NOT NULL DEFAULT false,
    commune       text CHECK (commune ~ '^[0-9AB]{5}$'),
    roles         text[] NOT NULL DEFAULT '{}',
    services      text[] NOT NULL DEFAULT '{}',
    communes      text[] NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz,
    fc_sub        text UNIQUE,
    fc_linked_at  timestamptz
);

COMMENT ON TABLE account IS
    'Citizens (usagers) and agents. Agents are created verified by a system '
    'caller or an administrator; citizens sign up and verify their e-mail.';
COMMENT ON COLUMN account.email IS
    'Login and contact address, normalised by gch_email_normalize (trimmed, '
    'ASCII letters in lower case, as the CHECK says) before it gets here; '
    'unique.';
COMMENT ON COLUMN account.password_hash IS
    'libsodium crypto_pwhash_str (argon2id) string; NULL for an account that '
    'only signs in through FranceConnect.';
COMMENT ON COLUMN account.kind IS
    'citizen or agent: becomes the caller kind the gateway puts in envelopes.';
COMMENT ON COLUMN account.verified IS
    'E-mail address proven (verify_token used), or account created by a '
    'system caller or an administrator. Login refuses unverified accounts.';
COMMENT ON COLUMN account.commune IS
    'Citizen''s commune, INSEE code (2A/2B for Corsica); NULL if not given.';
COMMENT ON COLUMN account.roles IS
    'Agent roles (instructeur, admin, ...); empty for citizens.';
COMMENT ON COLUMN account.services IS
    'Codes of the services (directions) the agent belongs to; empty for '
    'citizens.';
COMMENT ON COLUMN account.communes IS
    'INSEE codes of the communes the agent may see; empty means all.';
COMMENT ON COLUMN account.last_login_at IS
    'Last successful account.login.';
COMMENT ON COLUMN account.fc_sub IS
    'FranceConnect subject identifier (sub claim) once the account is linked '
    'to FranceConnect; NULL otherwise.';
COMMENT ON COLUMN account.fc_linked_at IS
    'When the FranceConnect identity was linked.';

CREATE TABLE verify_token (
    token_hash text PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES account (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);

CREATE INDEX verify_token_account ON verify_token (account_id);

COMMENT ON TABLE verify_token IS
    'E-mail verification links sent at sign-up (account.created event); '
    'account.verify uses one once, before it expires.';
COMMENT ON COLUMN verify_token.token_hash IS
    'Hex sha256 of the random token in the link. The raw token is never '
    'stored here: it travels only in the account.created event and the '
    'e-mail.';
COMMENT ON COLUMN verify_token.used_at IS
    'When account.verify consumed the token; NULL while unused.';
COMMENT ON INDEX verify_token_account IS
    'For the cascade when an account is deleted.';
