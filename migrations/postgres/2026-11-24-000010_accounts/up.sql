-- Accounts that get tokens from POST /auth/token (OAuth2 client
-- credentials): a person or a member system, with a role and a scope.
-- Only an argon2 hash of the secret is kept.
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    role TEXT NOT NULL,
    alliances TEXT NOT NULL,
    organization TEXT,
    description TEXT,
    status TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    secret_rotated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
