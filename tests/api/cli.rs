//! The command line, run as a user runs it: `openapi`, `seed`, `token`, and
//! the refusal to serve PostgreSQL without a signing key.

use std::process::{Command, Output};

use alliance_api::auth::{JwtKeys, Role};
use alliance_api::db::{Db, settings};
use diesel::prelude::*;

fn cli(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_alliance-api"));
    cmd.args(args)
        .env_remove("ALLIANCE_JWT_SECRET")
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn openapi_prints_the_committed_description() {
    let printed = stdout(&cli(&["openapi"], &[]));
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .unwrap();
    assert!(
        printed.trim_end() == committed.trim_end(),
        "`alliance-api openapi` differs from openapi/openapi.json"
    );
}

fn seed_twice(url: &str) {
    let first = stdout(&cli(&["seed"], &[("DATABASE_URL", url)]));
    assert_eq!(
        first.trim(),
        "added 7 alliances, 66 organizations, 97 memberships, 23 platforms, 18 KPI definitions, 14 demo report years"
    );
    let second = stdout(&cli(&["seed"], &[("DATABASE_URL", url)]));
    assert_eq!(
        second.trim(),
        "added 0 alliances, 0 organizations, 0 memberships, 0 platforms, 0 KPI definitions, 0 demo report years"
    );
    use alliance_api::db::schema::memberships;
    let db = Db::connect(url, 1).unwrap();
    let n: i64 = memberships::table
        .count()
        .get_result(&mut *db.conn().unwrap())
        .unwrap();
    assert_eq!(n, 97);
}

#[test]
fn seed_is_idempotent_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    seed_twice(&format!("sqlite://{}", dir.path().join("a.db").display()));
}

#[test]
fn seed_is_idempotent_on_postgres() {
    let Some(admin) = crate::common::postgres_url() else {
        return;
    };
    let name = format!("alliance_cli_{}", std::process::id());
    let mut conn = diesel::PgConnection::establish(&admin).unwrap();
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&mut conn)
        .unwrap();
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .unwrap();
    let result =
        std::panic::catch_unwind(|| seed_twice(&crate::common::with_database(&admin, &name)));
    diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut conn)
        .unwrap();
    result.unwrap();
}

#[test]
fn token_uses_the_demo_stores_own_key() {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("demo.db").to_string_lossy().into_owned();
    let token = stdout(&cli(
        &[
            "token",
            "--role",
            "secretariat",
            "--alliance",
            "teda-biomedicine",
            "--ttl",
            "60",
        ],
        &[("DATABASE_URL", &url)],
    ));
    let db = Db::connect(&url, 1).unwrap();
    let secret = settings::get(&mut db.conn().unwrap(), "jwt_secret")
        .unwrap()
        .expect("a key was made and kept");
    assert!(secret.len() >= 32);
    let principal = JwtKeys::hs256(secret.as_bytes())
        .verify(token.trim())
        .unwrap();
    assert_eq!(principal.role, Role::Secretariat);
    assert_eq!(principal.alliances, vec!["teda-biomedicine".to_owned()]);
    // A second call signs with the same key.
    let again = stdout(&cli(
        &["token", "--role", "viewer"],
        &[("DATABASE_URL", &url)],
    ));
    assert!(
        JwtKeys::hs256(secret.as_bytes())
            .verify(again.trim())
            .is_ok()
    );
    // An unknown role is refused by the parser.
    assert!(
        !cli(&["token", "--role", "emperor"], &[("DATABASE_URL", &url)])
            .status
            .success()
    );
}

#[test]
fn postgres_needs_a_real_signing_key() {
    let Some(admin) = crate::common::postgres_url() else {
        return;
    };
    let out = cli(&["--addr", "127.0.0.1:0"], &[("DATABASE_URL", &admin)]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("set ALLIANCE_JWT_SECRET"));
    let out = cli(
        &["--addr", "127.0.0.1:0"],
        &[("DATABASE_URL", &admin), ("ALLIANCE_JWT_SECRET", "short")],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 32 bytes"));
    // Long enough, but guessable: a template's placeholder, or one character.
    for guessable in [
        "your-256-bit-secret-your-256-bit-secret",
        "please-change-me-before-production-000",
        &"x".repeat(48),
    ] {
        let out = cli(
            &["--addr", "127.0.0.1:0"],
            &[("DATABASE_URL", &admin), ("ALLIANCE_JWT_SECRET", guessable)],
        );
        assert!(!out.status.success(), "{guessable} was taken");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("looks like a placeholder"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn settings_come_from_a_file_the_environment_overrides_and_check_masks_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alliance.toml");
    std::fs::write(
        &file,
        "database_url = \"postgres://svc:hunter2@127.0.0.1:5432/alliance\"\n\
         jwt_secret = \"0123456789abcdef0123456789abcdef-file\"\n\
         pool_size = 12\n\
         addr = \"127.0.0.1:9100\"\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let out = stdout(&cli(
        &["config", "check"],
        &[
            ("ALLIANCE_CONFIG", path),
            ("ALLIANCE_ADDR", "127.0.0.1:9200"),
        ],
    ));
    assert!(out.contains("pool_size = 12  (file)"), "{out}");
    assert!(
        out.contains("addr = 127.0.0.1:9200  (env ALLIANCE_ADDR)"),
        "{out}"
    );
    assert!(
        out.contains("postgres://svc:****@127.0.0.1:5432/alliance"),
        "{out}"
    );
    assert!(
        out.contains("jwt_secret = (set, 37 bytes)  (file)"),
        "{out}"
    );
    assert!(
        !out.contains("hunter2") && !out.contains("0123456789abcdef"),
        "{out}"
    );

    std::fs::write(&file, "pool_sise = 3\n").unwrap();
    let refused = cli(&["config", "check"], &[("ALLIANCE_CONFIG", path)]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("unknown setting `pool_sise`"));

    std::fs::write(
        &file,
        "database_url = \"postgres://svc@127.0.0.1/alliance\"\n",
    )
    .unwrap();
    let refused = cli(&["config", "check"], &[("ALLIANCE_CONFIG", path)]);
    assert!(
        !refused.status.success(),
        "PostgreSQL without a key is refused"
    );
}
