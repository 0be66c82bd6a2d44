//! The benchmark's floor: an actix-web handler that returns a static 2 KB
//! JSON body, with the same worker count and runtime as the service, so
//! `scripts/bench.sh` can state the service's cost as a ratio to it.
//!
//! `cargo run --release --example baseline -- 127.0.0.1:18090`

use actix_web::{App, HttpResponse, HttpServer, web};

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18090".to_owned());
    let workers = std::env::var("ALLIANCE_WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(2);
    let body: &'static str =
        Box::leak(format!("{{\"pad\":\"{}\"}}", "x".repeat(2040)).into_boxed_str());
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            App::new().route(
                "/static",
                web::get().to(move || async move {
                    HttpResponse::Ok()
                        .content_type("application/json")
                        .body(body)
                }),
            )
        })
        .workers(workers)
        .bind(addr)?
        .run()
        .await
    })
}
