//! Imports from spreadsheets (CSV, XLSX): every row is checked, a dry run
//! reports what would happen, and a real run writes all rows in one
//! transaction or none. The report follows DHIS2's import summary: counts
//! of what was created, updated and left alone, and a conflict per rejected
//! cell with its row and column.

pub mod activities;
pub mod kpis;
pub mod members;

use chrono::NaiveDate;

pub use crate::domain::import_report::{ImportConflict, ImportReport, MAX_LISTED_CONFLICTS};
use crate::error::ApiError;
use crate::tabular::{Row, Sheet};

/// One column of an import: the key the API uses, and the Chinese header a
/// secretariat's spreadsheet may use instead.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub key: &'static str,
    pub zh: &'static str,
    pub required: bool,
}

/// Where each known column is in a sheet's header row. Headers may be the
/// keys or the Chinese names; an unknown or repeated header, or a missing
/// required one, is an error naming it.
pub fn locate(
    columns: &[Column],
    headers: &[String],
) -> Result<Vec<Option<usize>>, Vec<(String, String)>> {
    let mut at = vec![None; columns.len()];
    let mut errors = vec![];
    for (i, h) in headers.iter().enumerate() {
        if h.is_empty() {
            continue;
        }
        match columns
            .iter()
            .position(|c| c.key.eq_ignore_ascii_case(h) || c.zh == h)
        {
            Some(c) if at[c].is_some() => {
                errors.push((h.clone(), format!("the column `{h}` appears twice")))
            }
            Some(c) => at[c] = Some(i),
            None => errors.push((
                h.clone(),
                format!(
                    "unknown column `{h}`; the columns are {}",
                    columns
                        .iter()
                        .map(|c| format!("{} ({})", c.key, c.zh))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }
    for (c, col) in columns.iter().enumerate() {
        if col.required && at[c].is_none() {
            errors.push((
                col.key.to_owned(),
                format!("the column `{}` ({}) is required", col.key, col.zh),
            ));
        }
    }
    if errors.is_empty() {
        Ok(at)
    } else {
        Err(errors)
    }
}

/// One data row's cells by column key, for a row parser: blank cells read
/// as absent, and a cell that does not parse becomes a conflict naming its
/// column.
pub struct Cells<'a> {
    /// The row as the spreadsheet numbers it.
    pub number: usize,
    row: &'a Row,
    at: &'a [Option<usize>],
    columns: &'static [Column],
    conflicts_before: usize,
}

impl Cells<'_> {
    /// The cell's text, trimmed; `None` when blank or the column is absent.
    pub fn text(&self, key: &str) -> Option<String> {
        let c = self.columns.iter().position(|c| c.key == key)?;
        let text = self.row.cells.get(self.at[c]?)?.trim();
        (!text.is_empty()).then(|| text.to_owned())
    }

    /// The cell parsed; one that does not parse is a conflict and reads as
    /// absent.
    pub fn parse<T, E: std::fmt::Display>(
        &self,
        report: &mut ImportReport,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        let text = self.text(key)?;
        match parse(&text) {
            Ok(v) => Some(v),
            Err(e) => {
                self.bad(report, key, format!("`{text}`: {e}"));
                None
            }
        }
    }

    /// A conflict on one of this row's cells.
    pub fn bad(&self, report: &mut ImportReport, key: &str, message: impl Into<String>) {
        report.conflict(self.number, Some(key), "invalid", message);
    }

    /// Whether any of this row's cells was rejected.
    pub fn rejected(&self, report: &ImportReport) -> bool {
        report.conflict_count() > self.conflicts_before
    }
}

/// How an import turns one row's cells into its row type.
pub type ParseRow<R> = fn(&Cells<'_>, &mut ImportReport) -> Option<R>;

/// Every data row of a sheet, parsed; rows with a rejected cell are left
/// out (their conflicts are in the report).
pub fn parse_rows<R>(
    sheet: &Sheet,
    at: &[Option<usize>],
    columns: &'static [Column],
    report: &mut ImportReport,
    parse_row: ParseRow<R>,
) -> Vec<R> {
    let mut out = Vec::with_capacity(sheet.rows.len());
    for row in &sheet.rows {
        let cells = Cells {
            number: row.number,
            row,
            at,
            columns,
            conflicts_before: report.conflict_count(),
        };
        out.extend(parse_row(&cells, report));
    }
    out
}

/// A row's error as conflicts (the field mapped to its column by
/// `column_of`); an error no row causes is passed on.
pub fn row_conflict(
    report: &mut ImportReport,
    row: usize,
    e: ApiError,
    columns: &[Column],
    column_of: fn(&str) -> &str,
) -> Result<(), ApiError> {
    let column = |field: &str| {
        let key = column_of(field);
        columns.iter().find(|c| c.key == key).map(|c| c.key)
    };
    match e {
        ApiError::Validation(errors) | ApiError::Conflict { errors, .. } if !errors.is_empty() => {
            for f in errors {
                report.conflict(row, column(&f.field), &f.code, f.message);
            }
        }
        ApiError::Conflict { detail, .. } => report.conflict(row, None, "conflict", detail),
        ApiError::Forbidden(m) => report.conflict(row, None, "forbidden", m),
        ApiError::BadRequest { detail, .. } => report.conflict(row, None, "invalid", detail),
        other => return Err(other),
    }
    Ok(())
}

/// A date cell: `YYYY-MM-DD` or `YYYY/M/D`.
pub fn date_of(s: &str) -> Result<NaiveDate, &'static str> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y/%m/%d"))
        .map_err(|_| "write the date as YYYY-MM-DD")
}
