//! What an outside probe of the release build found, each as a test on
//! both engines: hostile spreadsheets, bodies sent to tokens that may not
//! send them, shared token subjects, paths that slip past the throttle,
//! cursors from the future, formulas in CSV exports.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use alliance_api::auth::Role;
use alliance_api::db::schema::organizations;
use common::TestApp;
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

async fn upload(app: &TestApp, token: &str, content_type: &str, body: Vec<u8>) -> common::Response {
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
async fn hostile_spreadsheets_are_refused_quickly(app: TestApp) {
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
async fn conflict_lists_are_cut_and_counted(app: TestApp) {
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
async fn refusals_come_before_the_body(app: TestApp) {
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
async fn validation_comes_after_authorisation(app: TestApp) {
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
}

on_both_engines!(
    hostile_spreadsheets_are_refused_quickly,
    conflict_lists_are_cut_and_counted,
    refusals_come_before_the_body,
    validation_comes_after_authorisation,
);
