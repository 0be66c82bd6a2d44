//! The council (理事会): seats held by people on behalf of member
//! organisations, for a term (届), and the rules that keep it coherent.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::organization::OrganizationSummary;
use super::{Name, Url, Versioned, text_enum};

text_enum!(
    Position {
        /// 理事长: at most one sitting at any date.
        Chair = "chair",
        /// 副理事长.
        ViceChair = "vice_chair",
        /// 秘书长: at most one sitting at any date.
        SecretaryGeneral = "secretary_general",
        /// 理事.
        Director = "director",
        /// 监事.
        Supervisor = "supervisor",
    }
);

impl Position {
    /// Positions an alliance has one of at a time.
    pub fn is_single(self) -> bool {
        matches!(self, Position::Chair | Position::SecretaryGeneral)
    }
}

/// A seat on an alliance's council.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CouncilSeat {
    pub id: String,
    pub alliance_id: String,
    /// The member organisation the person represents.
    pub organization: OrganizationSummary,
    #[schema(value_type = String, example = "张伟")]
    pub person_name_zh: Name,
    #[schema(value_type = Option<String>, example = "Zhang Wei")]
    pub person_name_en: Option<Name>,
    pub position: Position,
    /// The council's term (届), from 1.
    #[schema(minimum = 1, example = 1)]
    pub term_number: i32,
    pub term_starts_on: NaiveDate,
    pub term_ends_on: NaiveDate,
    /// The day the seat ended before its term did (resignation, the
    /// organisation leaving the alliance); `null` while it runs its term.
    pub ended_on: Option<NaiveDate>,
    #[schema(example = json!(null))]
    pub end_reason: Option<String>,
    /// The appointment document.
    #[schema(value_type = Option<String>, example = "https://www.teda.gov.cn/council/2023-05-08.pdf")]
    pub appointment_document: Option<Url>,
    #[schema(example = 1)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip)]
    pub organization_version: i64,
}

impl Versioned for CouncilSeat {
    fn etag(&self) -> String {
        format!("\"{}.{}\"", self.version, self.organization_version)
    }
}

impl CouncilSeat {
    /// The last day the seat is held.
    pub fn last_day(&self) -> NaiveDate {
        self.ended_on.unwrap_or(self.term_ends_on)
    }

    /// Whether the seat is held on `day`.
    pub fn sits_on(&self, day: NaiveDate) -> bool {
        self.term_starts_on <= day && day <= self.last_day()
    }

    /// Whether two seats are held on some common day.
    pub fn overlaps(&self, other: &CouncilSeat) -> bool {
        self.term_starts_on <= other.last_day() && other.term_starts_on <= self.last_day()
    }
}

/// Seats a person on the council (admin, or the alliance's secretariat).
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[schema(as = CreateCouncilSeat)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "organization": "nankai-university",
    "person_name_zh": "张伟",
    "position": "vice_chair",
    "term_number": 1,
    "term_starts_on": "2023-05-08",
    "term_ends_on": "2026-05-07",
    "appointment_document": "https://www.teda.gov.cn/council/2023-05-08.pdf"
}))]
pub struct NewCouncilSeat {
    /// A current member of the alliance (id or slug).
    pub organization: String,
    pub person_name_zh: Name,
    pub person_name_en: Option<Name>,
    pub position: Position,
    #[validate(range(min = 1, max = 100))]
    #[schema(minimum = 1, maximum = 100)]
    pub term_number: i32,
    pub term_starts_on: NaiveDate,
    pub term_ends_on: NaiveDate,
    pub appointment_document: Option<Url>,
}

/// Changes a seat: absent fields stay, `null` clears. `ended_on` (with an
/// `end_reason`) ends it early.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[schema(as = UpdateCouncilSeat)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"ended_on": "2025-09-30", "end_reason": "resigned"}))]
pub struct CouncilSeatPatch {
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(value_type = Option<String>, nullable = false)]
    pub person_name_zh: Option<Name>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub person_name_en: Option<Option<Name>>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    pub position: Option<Position>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false, minimum = 1, maximum = 100)]
    #[validate(range(min = 1, max = 100))]
    pub term_number: Option<i32>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    pub term_starts_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    pub term_ends_on: Option<NaiveDate>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub ended_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[validate(length(max = 2000))]
    #[schema(value_type = Option<String>)]
    pub end_reason: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub appointment_document: Option<Option<Url>>,
}

/// A seat's own dates agree. Returns the field at fault and why.
pub fn check_dates(seat: &CouncilSeat) -> Result<(), (&'static str, String)> {
    if seat.term_ends_on < seat.term_starts_on {
        return Err((
            "term_ends_on",
            format!(
                "the term ends ({}) before it starts ({})",
                seat.term_ends_on, seat.term_starts_on
            ),
        ));
    }
    if let Some(end) = seat.ended_on
        && (end < seat.term_starts_on || end > seat.term_ends_on)
    {
        return Err((
            "ended_on",
            format!(
                "ended_on ({end}) must fall within the term ({} to {})",
                seat.term_starts_on, seat.term_ends_on
            ),
        ));
    }
    Ok(())
}

impl super::PersonalData for CouncilSeat {
    fn masked(mut self) -> Self {
        self.person_name_zh = masked_name(&self.person_name_zh);
        self.person_name_en = self.person_name_en.as_ref().map(masked_name);
        self
    }
}

fn masked_name(name: &Name) -> Name {
    // A masked name is as long as the name and starts with its first
    // character, so it parses; should it not, nothing of it is shown.
    Name::parse(&super::mask_person_name(name.as_str()))
        .or_else(|_| Name::parse("*"))
        .expect("`*` is a name")
}

/// The council on one day.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Council {
    pub as_of: NaiveDate,
    /// Seats held that day, chair first.
    pub seats: Vec<CouncilSeat>,
    /// Single positions (chair, secretary-general) nobody holds that day.
    pub vacancies: Vec<Position>,
    /// Seats held that day whose last day falls within `ending_within_days`.
    pub ending_soon: Vec<CouncilSeat>,
}

impl super::PersonalData for Council {
    fn masked(mut self) -> Self {
        self.seats = self.seats.masked();
        self.ending_soon = self.ending_soon.masked();
        self
    }
}
