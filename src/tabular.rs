//! Spreadsheets in and out: CSV (`csv`) and XLSX (`calamine` to read,
//! `rust_xlsxwriter` to write), as a header row and rows of text cells.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

pub const CSV: &str = "text/csv";
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
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

/// Reads the first sheet of a workbook, or a CSV file (UTF-8, with or
/// without a byte-order mark). Blank rows are skipped; a file that cannot
/// be read is described in the error.
pub fn read(format: Format, bytes: &[u8]) -> Result<Sheet, String> {
    let mut lines = match format {
        Format::Csv => read_csv(bytes)?,
        Format::Xlsx => read_xlsx(bytes)?,
    }
    .into_iter();
    let headers = lines
        .next()
        .map(|(_, h)| h.into_iter().map(|c| c.trim().to_owned()).collect())
        .ok_or("the file is empty: the first row must name the columns")?;
    let rows = lines
        .filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()))
        .map(|(number, cells)| Row { number, cells })
        .collect();
    Ok(Sheet { headers, rows })
}

fn read_csv(bytes: &[u8]) -> Result<Vec<(usize, Vec<String>)>, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| match e.kind() {
            csv::ErrorKind::Utf8 { .. } => format!(
                "row {} is not UTF-8 text; save the file as \"CSV UTF-8\" or as .xlsx",
                i + 1
            ),
            _ => format!("row {}: {e}", i + 1),
        })?;
        out.push((i + 1, record.iter().map(str::to_owned).collect()));
    }
    Ok(out)
}

fn read_xlsx(bytes: &[u8]) -> Result<Vec<(usize, Vec<String>)>, String> {
    let mut book: Xlsx<_> =
        Xlsx::new(Cursor::new(bytes)).map_err(|e| format!("this is not an .xlsx workbook: {e}"))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or("the workbook has no sheet")?
        .map_err(|e| format!("the first sheet cannot be read: {e}"))?;
    // Row numbers as Excel shows them, even when the data does not start at A1.
    let first_row = range.start().map_or(0, |(r, _)| r as usize);
    let first_col = range.start().map_or(0, |(_, c)| c as usize);
    Ok(range
        .rows()
        .enumerate()
        .map(|(i, cells)| {
            let mut text: Vec<String> = vec![String::new(); first_col];
            text.extend(cells.iter().map(cell_text));
            (first_row + i + 1, text)
        })
        .collect())
}

/// A cell as the text a user typed: whole numbers without `.0`, dates as
/// `YYYY-MM-DD`.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => match d.as_datetime() {
            Some(t) if t.time() == chrono::NaiveTime::MIN => t.date().to_string(),
            Some(t) => t.to_string(),
            None => d.as_f64().to_string(),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#ERROR {e:?}"),
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
    fn csv(&self) -> Result<Vec<u8>, String> {
        let mut out = b"\xEF\xBB\xBF".to_vec();
        {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record(&self.headers).map_err(|e| e.to_string())?;
            for row in &self.rows {
                w.write_record(row).map_err(|e| e.to_string())?;
            }
            w.flush().map_err(|e| e.to_string())?;
        }
        Ok(out)
    }

    fn xlsx(&self) -> Result<Vec<u8>, String> {
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
                        sheet.write_string(r, col, value)?;
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
            let sheet = read(format, &bytes).unwrap();
            assert_eq!(sheet.headers, vec!["名称", "加入日期"], "{format:?}");
            assert_eq!(sheet.rows.len(), 2);
            assert_eq!(sheet.rows[0].number, 2);
            assert_eq!(sheet.rows[0].cells[0], "南开大学");
            assert_eq!(sheet.rows[1].cells[0], "天津港（集团）有限公司, \"港\"");
        }
    }

    #[test]
    fn unreadable_files_say_why() {
        assert!(
            read(Format::Csv, b"name\n\xff\xfe\n")
                .unwrap_err()
                .contains("UTF-8")
        );
        assert!(
            read(Format::Xlsx, b"not a zip")
                .unwrap_err()
                .contains(".xlsx")
        );
        assert!(read(Format::Csv, b"").unwrap_err().contains("empty"));
    }
}
