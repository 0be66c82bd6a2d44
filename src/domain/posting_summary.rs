//! A year's supply–demand summary (供需对接年度报告) of an alliance or of the
//! city: the postings published in the year by kind, major and level, and
//! the matches closed in it.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use utoipa::ToSchema;

use super::posting::{
    CloseReason, EducationLevel, Posting, PostingDirection, PostingKind, PostingMatch,
};

/// The year's figures, all postings together.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct SummaryTotals {
    /// Demands published in the year.
    #[schema(example = 24)]
    pub demands: i64,
    /// Offers published in the year.
    #[schema(example = 18)]
    pub offers: i64,
    /// People the demands ask for.
    pub demand_headcount: i64,
    /// Graduates and places the offers hold.
    pub offer_headcount: i64,
    /// Demands of the year closed as filled or named by a match closed in the year.
    pub demands_filled: i64,
    /// `demands_filled / demands`; `null` without demands.
    #[schema(example = 0.25)]
    pub fill_rate: Option<f64>,
    /// Matches closed in the year.
    pub matches_closed: i64,
    /// Students placed by them.
    pub students_placed: i64,
    /// Contracts signed by them, in yuan.
    pub contract_amount_cny: i64,
    /// Median days from a demand's publication to the close of its match,
    /// over the matches closed in the year.
    pub median_days_to_match: Option<f64>,
}

/// Postings of one kind, major or level.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct SummaryLine {
    /// The kind, the major (`未注明` for postings without one) or the level
    /// (`unspecified`).
    #[schema(example = "生物制药技术")]
    pub name: String,
    pub demands: i64,
    pub offers: i64,
    pub demand_headcount: i64,
    pub offer_headcount: i64,
    pub demands_filled: i64,
}

/// The supply–demand summary of a year.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SupplyDemandSummary {
    #[schema(example = 2025)]
    pub year: i32,
    /// The alliance (slug); `null` for the whole city.
    #[schema(example = "teda-biomedicine")]
    pub alliance: Option<String>,
    pub totals: SummaryTotals,
    pub by_kind: Vec<SummaryLine>,
    pub by_major: Vec<SummaryLine>,
    pub by_level: Vec<SummaryLine>,
}

/// The name of postings without a major.
pub const NO_MAJOR: &str = "未注明";

impl SummaryLine {
    fn add(&mut self, p: &Posting, filled: bool) {
        let heads = p.headcount.unwrap_or(0);
        match p.direction {
            PostingDirection::Demand => {
                self.demands += 1;
                self.demand_headcount += heads;
                self.demands_filled += i64::from(filled);
            }
            PostingDirection::Offer => {
                self.offers += 1;
                self.offer_headcount += heads;
            }
        }
    }
}

fn level_name(l: Option<EducationLevel>) -> String {
    l.map_or("unspecified", EducationLevel::as_str).to_owned()
}

/// The summary of the postings published in `year` and the matches closed in it.
pub fn summarize(
    year: i32,
    alliance: Option<String>,
    posted: &[Posting],
    closed: &[PostingMatch],
) -> SupplyDemandSummary {
    let matched: BTreeSet<&str> = closed.iter().map(|m| m.demand.id.as_str()).collect();
    let mut all = SummaryLine::default();
    let mut kinds: BTreeMap<&str, SummaryLine> = PostingKind::ALL
        .iter()
        .map(|k| (k.as_str(), SummaryLine::default()))
        .collect();
    let mut majors: BTreeMap<String, SummaryLine> = BTreeMap::new();
    let mut levels: BTreeMap<String, SummaryLine> = BTreeMap::new();
    for p in posted {
        let filled = p.direction == PostingDirection::Demand
            && (p.close_reason == Some(CloseReason::Filled) || matched.contains(p.id.as_str()));
        all.add(p, filled);
        if let Some(line) = kinds.get_mut(p.kind.as_str()) {
            line.add(p, filled);
        }
        let names: BTreeSet<String> = if p.majors.is_empty() {
            [NO_MAJOR.to_owned()].into()
        } else {
            p.majors.iter().map(|m| m.trim().to_owned()).collect()
        };
        for name in names {
            majors.entry(name).or_default().add(p, filled);
        }
        levels
            .entry(level_name(p.level))
            .or_default()
            .add(p, filled);
    }
    let named = |m: BTreeMap<String, SummaryLine>| -> Vec<SummaryLine> {
        m.into_iter()
            .map(|(name, line)| SummaryLine { name, ..line })
            .collect()
    };
    let mut days: Vec<f64> = closed
        .iter()
        .filter_map(|m| {
            let published = m.demand.published_at?.date_naive();
            Some((m.closed_on? - published).num_days().max(0) as f64)
        })
        .collect();
    days.sort_by(f64::total_cmp);
    let median = match days.len() {
        0 => None,
        n if n % 2 == 1 => Some(days[n / 2]),
        n => Some((days[n / 2 - 1] + days[n / 2]) / 2.0),
    };
    let outcome = |f: fn(&super::posting::MatchOutcome) -> Option<i64>| {
        closed
            .iter()
            .filter_map(|m| m.outcome.as_ref().and_then(f))
            .sum::<i64>()
    };
    SupplyDemandSummary {
        year,
        alliance,
        totals: SummaryTotals {
            demands: all.demands,
            offers: all.offers,
            demand_headcount: all.demand_headcount,
            offer_headcount: all.offer_headcount,
            demands_filled: all.demands_filled,
            fill_rate: (all.demands > 0).then(|| all.demands_filled as f64 / all.demands as f64),
            matches_closed: closed.len() as i64,
            students_placed: outcome(|o| o.students_placed),
            contract_amount_cny: outcome(|o| o.contract_amount_cny),
            median_days_to_match: median,
        },
        by_kind: kinds
            .into_iter()
            .map(|(name, line)| SummaryLine {
                name: name.to_owned(),
                ..line
            })
            .collect(),
        by_major: named(majors),
        by_level: named(levels),
    }
}
