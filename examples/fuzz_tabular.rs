//! A bounded fuzzer for `tabular::read`, the importers' file reader: CSV and
//! XLSX inputs mutated at random (bytes of the file, and the XML inside a
//! workbook, re-zipped so the mutation reaches calamine) for a given time.
//! It fails on a panic, on a read slower than the bounds allow, and on any
//! single allocation, or a peak of live memory, over 256 MiB (a counting
//! global allocator).
//!
//!     cargo run --release --example fuzz_tabular -- 600    # seconds

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use alliance_api::tabular::{self, Format, IMPORT_BOUNDS, Table};
use rand::Rng;
use rand::seq::IndexedRandom;

const LIMIT: usize = 256 << 20;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static LARGEST: AtomicUsize = AtomicUsize::new(0);
/// Panics inside `tabular::read` (calamine's, which it catches and answers
/// as an unreadable file), counted instead of printed.
static CAUGHT: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let size = layout.size();
        if size > LIMIT {
            // Refuse rather than allocate: the run reports it below.
            LARGEST.fetch_max(size, Ordering::Relaxed);
            return std::ptr::null_mut();
        }
        LARGEST.fetch_max(size, Ordering::Relaxed);
        let live = LIVE.fetch_add(size, Ordering::Relaxed) + size;
        PEAK.fetch_max(live, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn seeds() -> Vec<(Format, Vec<u8>)> {
    let table = Table {
        sheet: "成员",
        headers: ["slug", "kind", "name_zh", "role", "joined_on", "uscc"]
            .map(str::to_owned)
            .to_vec(),
        rows: (0..40)
            .map(|i| {
                vec![
                    format!("fuzz-co-{i}"),
                    "enterprise".into(),
                    format!("模糊测试企业{i}号"),
                    "member".into(),
                    "2024-03-01".into(),
                    "91120116MA05JRW43X".into(),
                ]
            })
            .collect(),
        numeric: vec![],
    };
    vec![
        (Format::Csv, table.write(Format::Csv).unwrap()),
        (Format::Xlsx, table.write(Format::Xlsx).unwrap()),
    ]
}

const TOKENS: &[&[u8]] = &[
    b"<row/>",
    b"<c r=\"XFD1048576\" t=\"s\"><v>0</v></c>",
    b"<c r=\"A1048576\"><v>1</v></c>",
    b"<si><t>x</t></si>",
    b"<dimension ref=\"A1:XFD1048576\"/>",
    b"\"",
    b",",
    b"\n",
    b"\r\n",
    b"\xEF\xBB\xBF",
    b"\xff\xfe",
    b"=HYPERLINK(\"x\")",
    b"<![CDATA[",
    b"&#0;",
    b"<c t=\"inlineStr\"><is><t>",
];

fn mutate(rng: &mut impl Rng, data: &mut Vec<u8>) {
    for _ in 0..rng.random_range(1..8) {
        let at = if data.is_empty() {
            0
        } else {
            rng.random_range(0..data.len())
        };
        match rng.random_range(0..6) {
            0 if !data.is_empty() => data[at] = rng.random(),
            1 => {
                let token = TOKENS.choose(rng).unwrap();
                let times = if rng.random_bool(0.1) {
                    rng.random_range(1..20_000)
                } else {
                    1
                };
                let insert: Vec<u8> = token
                    .iter()
                    .copied()
                    .cycle()
                    .take(token.len() * times)
                    .collect();
                data.splice(at..at, insert);
            }
            2 if !data.is_empty() => {
                let end = (at + rng.random_range(1..64)).min(data.len());
                data.drain(at..end);
            }
            3 if !data.is_empty() => {
                let end = (at + rng.random_range(1..256)).min(data.len());
                let chunk = data[at..end].to_vec();
                let to = rng.random_range(0..data.len());
                data.splice(to..to, chunk);
            }
            4 => data.truncate(at),
            _ => data.push(rng.random()),
        }
    }
}

/// A workbook with the XML of one of its parts mutated, re-zipped.
fn mutate_workbook(rng: &mut impl Rng, book: &[u8]) -> Vec<u8> {
    let Ok(mut source) = zip::ZipArchive::new(std::io::Cursor::new(book)) else {
        return book.to_vec();
    };
    let target = rng.random_range(0..source.len());
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    for i in 0..source.len() {
        let mut part = source.by_index(i).unwrap();
        let name = part.name().to_owned();
        let mut content = Vec::new();
        if part.read_to_end(&mut content).is_err() {
            continue;
        }
        if i == target {
            mutate(rng, &mut content);
        }
        out.start_file(name, options).unwrap();
        out.write_all(&content).unwrap();
    }
    out.finish().unwrap().into_inner()
}

fn main() {
    let seconds: u64 = std::env::args()
        .nth(1)
        .map_or(60, |s| s.parse().expect("seconds"));
    let until = Instant::now() + Duration::from_secs(seconds);
    let seeds = seeds();
    std::panic::set_hook(Box::new(|_| {
        CAUGHT.fetch_add(1, Ordering::Relaxed);
    }));
    let mut rng = rand::rng();
    let (mut runs, mut read, mut refused, mut slowest) = (0u64, 0u64, 0u64, Duration::ZERO);
    let mut corpus: Vec<(Format, Vec<u8>)> = seeds.clone();
    while Instant::now() < until {
        let (format, base) = corpus.choose(&mut rng).unwrap().clone();
        let input = match format {
            Format::Xlsx if rng.random_bool(0.7) => mutate_workbook(&mut rng, &base),
            _ => {
                let mut b = base;
                mutate(&mut rng, &mut b);
                b
            }
        };
        let before = LIVE.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let started = Instant::now();
        let outcome = std::panic::catch_unwind(|| tabular::read(format, &input, &IMPORT_BOUNDS));
        let took = started.elapsed();
        slowest = slowest.max(took);
        let peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);
        runs += 1;
        match outcome {
            Err(_) => {
                let path = format!("/tmp/fuzz-tabular-crash.{}", format.extension());
                std::fs::write(&path, &input).unwrap();
                panic!("tabular::read panicked; the input is in {path}");
            }
            Ok(Ok(_)) => {
                read += 1;
                // Inputs that still read are worth mutating further.
                if corpus.len() < 256 && input.len() < 4 << 20 {
                    corpus.push((format, input.clone()));
                }
            }
            Ok(Err(_)) => refused += 1,
        }
        assert!(
            peak <= LIMIT,
            "one read peaked at {} MiB of live memory",
            peak >> 20
        );
        assert!(
            LARGEST.load(Ordering::Relaxed) <= LIMIT,
            "an allocation of {} MiB was asked for",
            LARGEST.load(Ordering::Relaxed) >> 20
        );
        assert!(
            took < IMPORT_BOUNDS.time + Duration::from_millis(500),
            "one read took {took:?}"
        );
    }
    println!(
        "fuzz_tabular: {runs} inputs in {seconds} s ({read} read, {refused} refused, of which {} \
         made calamine panic and were answered unreadable); no panic out of tabular::read, \
         largest allocation {} KiB, slowest read {} ms",
        CAUGHT.load(Ordering::Relaxed),
        LARGEST.load(Ordering::Relaxed) >> 10,
        slowest.as_millis()
    );
}
