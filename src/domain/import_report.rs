//! What an import did, or would do: DHIS2's import summary — counts of
//! what was created, updated and left alone, and a conflict per rejected
//! cell with its row and column. (A problem answer carries it, so it lives
//! below both `import` and `error`.)

use serde::Serialize;
use utoipa::ToSchema;

/// Why a row (or a cell of it) was rejected.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImportConflict {
    /// The row as the spreadsheet numbers it (the header is row 1).
    #[schema(example = 14)]
    pub row: usize,
    /// The column's key, when one cell is at fault.
    #[schema(example = "uscc")]
    pub column: Option<String>,
    #[schema(example = "invalid")]
    pub code: String,
    #[schema(example = "check character is 'X' but the code requires 'W'")]
    pub message: String,
}

/// What an import did, or would do.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ImportReport {
    /// `true`: nothing was written; the counts say what a real run would do.
    pub dry_run: bool,
    /// Data rows read (blank rows are skipped).
    #[schema(example = 1000)]
    pub rows: usize,
    pub organizations_created: usize,
    pub organizations_updated: usize,
    pub memberships_created: usize,
    pub memberships_updated: usize,
    pub activities_created: usize,
    pub activities_updated: usize,
    /// Yearly KPI entries (a year and a KPI) set.
    pub kpi_entries_set: usize,
    /// Rows that matched what is recorded and changed nothing.
    pub unchanged: usize,
    /// The rejected cells and rows, the first 1 000 of them. A real run
    /// with conflicts writes nothing.
    pub conflicts: Vec<ImportConflict>,
    /// Conflicts past the first 1 000, counted but not listed.
    pub conflicts_not_listed: usize,
}

/// Conflicts a report lists; more are only counted, so a hostile file
/// cannot make an answer of many megabytes.
pub const MAX_LISTED_CONFLICTS: usize = 1_000;

impl ImportReport {
    pub fn conflict(
        &mut self,
        row: usize,
        column: Option<&str>,
        code: &str,
        message: impl Into<String>,
    ) {
        if self.conflicts.len() >= MAX_LISTED_CONFLICTS {
            self.conflicts_not_listed += 1;
            return;
        }
        self.conflicts.push(ImportConflict {
            row,
            column: column.map(str::to_owned),
            code: code.to_owned(),
            message: message.into(),
        });
    }

    /// Every conflict, listed or not.
    pub fn conflict_count(&self) -> usize {
        self.conflicts.len() + self.conflicts_not_listed
    }
}
