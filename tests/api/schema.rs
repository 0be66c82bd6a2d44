//! Both engines end with the same tables and columns after migrating, and
//! both match `src/db/schema.rs` (diesel checks the types at compile time;
//! this checks the names and nullability the migrations made).

use alliance_api::db::{AnyConnection, Db};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

#[derive(QueryableByName, Debug, PartialEq, Eq, PartialOrd, Ord, Clone)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Bool)]
    nullable: bool,
}

fn columns(conn: &mut AnyConnection) -> Vec<Column> {
    let sql = match conn {
        AnyConnection::Sqlite(_) => {
            "SELECT m.name AS table_name, p.name AS column_name, (p.\"notnull\" = 0 AND p.pk = 0) AS nullable
             FROM sqlite_master m JOIN pragma_table_info(m.name) p
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '__diesel_schema_migrations'"
        }
        AnyConnection::Postgresql(_) => {
            "SELECT table_name::text AS table_name, column_name::text AS column_name, (is_nullable = 'YES') AS nullable
             FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'"
        }
    };
    let mut cols: Vec<Column> = diesel::sql_query(sql).load(conn).unwrap();
    cols.sort();
    cols
}

fn migrated(url: &str) -> Db {
    let db = Db::connect(url, 1).unwrap();
    db.migrate().unwrap();
    db
}

#[test]
fn both_engines_have_the_same_tables_and_columns() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = migrated(&dir.path().join("s.db").to_string_lossy());
    let sqlite_cols = columns(&mut sqlite.conn().unwrap());
    assert!(
        sqlite_cols
            .iter()
            .any(|c| c.table_name == "memberships" && c.column_name == "left_on" && c.nullable)
    );
    assert!(
        sqlite_cols
            .iter()
            .any(|c| c.table_name == "change_events" && c.column_name == "seq" && !c.nullable)
    );

    let Some(admin) = crate::common::postgres_url() else {
        return;
    };
    let name = format!("alliance_schema_{}", std::process::id());
    let mut admin_conn = diesel::PgConnection::establish(&admin).unwrap();
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&mut admin_conn)
        .unwrap();
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin_conn)
        .unwrap();
    let pg = migrated(&crate::common::with_database(&admin, &name));
    let pg_cols = columns(&mut pg.conn().unwrap());
    drop(pg);
    diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin_conn)
        .unwrap();
    assert_eq!(sqlite_cols, pg_cols);
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

#[test]
fn every_pooled_sqlite_connection_has_foreign_keys_wal_and_a_busy_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&dir.path().join("p.db").to_string_lossy(), 3).unwrap();
    // Hold three connections at once, so each is a different one.
    let mut conns: Vec<_> = (0..3).map(|_| db.conn().unwrap()).collect();
    for conn in &mut conns {
        let pragma = |conn: &mut AnyConnection, sql: &str| -> String {
            diesel::sql_query(sql)
                .get_result::<Setting>(conn)
                .unwrap()
                .value
        };
        assert_eq!(
            pragma(
                conn,
                "SELECT CAST(foreign_keys AS TEXT) AS value FROM pragma_foreign_keys"
            ),
            "1"
        );
        assert_eq!(
            pragma(
                conn,
                "SELECT journal_mode AS value FROM pragma_journal_mode"
            ),
            "wal"
        );
        assert_eq!(
            pragma(
                conn,
                "SELECT CAST(timeout AS TEXT) AS value FROM pragma_busy_timeout"
            ),
            "10000"
        );
    }
}

#[test]
fn a_postgres_url_never_falls_back_to_a_sqlite_file() {
    // An unreachable server is an error naming it, not a file called "postgres:…".
    let err = Db::connect("postgres://nobody@127.0.0.1:1/none", 1)
        .err()
        .expect("no server there");
    assert!(
        err.to_string().contains("cannot open the database"),
        "{err}"
    );
    assert!(!std::path::Path::new("postgres://nobody@127.0.0.1:1/none").exists());
}
