//! The integration suite: one binary, one module per area. Each test drives
//! the real service (or its binary, for crash, replica, shutdown and CLI tests)
//! over a real database, on SQLite and on PostgreSQL (see `common`).

#[macro_use]
mod common;

mod accounts;
mod alliances;
mod audit;
mod authorization;
mod changes;
mod cli;
mod client_shapes;
mod concurrency;
mod conventions;
mod crash;
mod governance;
mod hardening;
mod idempotency;
mod imports;
mod kpis;
mod limits;
mod memberships;
mod openapi;
mod operations;
mod organizations;
mod postings;
mod probes;
mod replicas;
mod reports;
mod schema;
mod shutdown;
mod snapshots;
mod sync_writes;
mod tokens;
mod webhooks;
