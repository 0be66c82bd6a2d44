//! 供需对接: what an enterprise needs (talent, research, a project) and what a
//! college or institute offers (graduates, research results, training
//! places), posted into an alliance, reviewed by its secretariat, and
//! matched demand to offer. Seed 001 （十一） and （四）.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use super::organization::OrganizationSummary;
use super::{Name, Url, Versioned, text_enum};

text_enum!(
    PostingKind {
        /// 人才需求 (demand): `positions`, `headcount`, `majors`, `level`, `region`.
        Talent = "talent",
        /// 技术研发需求 (demand): `problem`, `budget_min_cny`, `budget_max_cny`, `deadline`.
        Research = "research",
        /// 项目合作需求 (demand): `project_kind` (order class, internship, training, …), `headcount`.
        Project = "project",
        /// 人才供给 (offer, from a college): `majors`, `headcount` (graduates expected), `graduation_year`, `level`.
        TalentSupply = "talent_supply",
        /// 科研成果 (offer): `maturity`, `licensing`.
        ResearchResult = "research_result",
        /// 实训资源 (offer): `headcount` (places), `majors`.
        TrainingCapacity = "training_capacity",
    }
);

text_enum!(
    PostingDirection {
        /// 需求: posted by whoever needs it.
        Demand = "demand",
        /// 供给: posted by whoever offers it.
        Offer = "offer",
    }
);

impl PostingKind {
    pub fn direction(self) -> PostingDirection {
        match self {
            PostingKind::Talent | PostingKind::Research | PostingKind::Project => {
                PostingDirection::Demand
            }
            _ => PostingDirection::Offer,
        }
    }

    /// The kind a match pairs this one with: talent with talent supply,
    /// research with research results, projects with training capacity.
    pub fn counterpart(self) -> PostingKind {
        match self {
            PostingKind::Talent => PostingKind::TalentSupply,
            PostingKind::TalentSupply => PostingKind::Talent,
            PostingKind::Research => PostingKind::ResearchResult,
            PostingKind::ResearchResult => PostingKind::Research,
            PostingKind::Project => PostingKind::TrainingCapacity,
            PostingKind::TrainingCapacity => PostingKind::Project,
        }
    }

    /// Whether `headcount` must be given (and at least 1).
    fn counts_heads(self) -> bool {
        matches!(
            self,
            PostingKind::Talent | PostingKind::TalentSupply | PostingKind::TrainingCapacity
        )
    }
}

text_enum!(
    EducationLevel {
        /// 中职.
        SecondaryVocational = "secondary_vocational",
        /// 高职.
        HigherVocational = "higher_vocational",
        /// 本科.
        Undergraduate = "undergraduate",
        /// 研究生.
        Postgraduate = "postgraduate",
    }
);

text_enum!(
    PostingStatus {
        /// Being written; only the poster and the secretariat see it.
        Draft = "draft",
        /// Submitted: the alliance's secretariat publishes it or returns it.
        PendingReview = "pending_review",
        /// Every member of the alliance sees it; matches may name it.
        Published = "published",
        /// Filled, withdrawn, or past its close date (`close_reason`).
        Closed = "closed",
    }
);

text_enum!(
    CloseReason {
        Filled = "filled",
        /// Past `closes_on`: set when read, not by a call.
        Expired = "expired",
        Withdrawn = "withdrawn",
    }
);

text_enum!(
    ProjectKind {
        /// 订单班.
        OrderClass = "order_class",
        /// 实习.
        Internship = "internship",
        /// 培训.
        Training = "training",
        Other = "other",
    }
);

text_enum!(
    Maturity {
        /// 实验室阶段.
        Laboratory = "laboratory",
        /// 中试.
        Pilot = "pilot",
        /// 可产业化.
        Industrial = "industrial",
    }
);

/// The fields only some kinds take (see `PostingKind`); the others must be
/// absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostingDetails {
    /// Positions wanted (talent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[validate(custom(function = "check_terms"))]
    #[schema(example = json!(["细胞培养技术员", "质量检验员"]))]
    pub positions: Vec<String>,
    /// The problem to solve (research).
    #[validate(length(max = 4000))]
    pub problem: Option<String>,
    /// Budget range in yuan (research).
    #[validate(range(min = 0, max = 1_000_000_000_000_i64))]
    #[schema(minimum = 0, example = 500_000)]
    pub budget_min_cny: Option<i64>,
    #[validate(range(min = 0, max = 1_000_000_000_000_i64))]
    #[schema(minimum = 0, example = 2_000_000)]
    pub budget_max_cny: Option<i64>,
    /// When the research must be done (research).
    pub deadline: Option<NaiveDate>,
    /// What the project is (project).
    pub project_kind: Option<ProjectKind>,
    /// The year the graduates finish (talent supply).
    #[validate(range(min = 2000, max = 2100))]
    #[schema(minimum = 2000, maximum = 2100, example = 2026)]
    pub graduation_year: Option<i32>,
    /// How far the result is (research result).
    pub maturity: Option<Maturity>,
    /// Licensing terms (research result).
    #[validate(length(max = 2000))]
    pub licensing: Option<String>,
}

impl PostingDetails {
    fn present(&self) -> Vec<&'static str> {
        [
            ("positions", !self.positions.is_empty()),
            ("problem", self.problem.is_some()),
            ("budget_min_cny", self.budget_min_cny.is_some()),
            ("budget_max_cny", self.budget_max_cny.is_some()),
            ("deadline", self.deadline.is_some()),
            ("project_kind", self.project_kind.is_some()),
            ("graduation_year", self.graduation_year.is_some()),
            ("maturity", self.maturity.is_some()),
            ("licensing", self.licensing.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }
}

fn allowed_details(kind: PostingKind) -> &'static [&'static str] {
    match kind {
        PostingKind::Talent => &["positions"],
        PostingKind::Research => &["problem", "budget_min_cny", "budget_max_cny", "deadline"],
        PostingKind::Project => &["project_kind"],
        PostingKind::TalentSupply => &["graduation_year"],
        PostingKind::ResearchResult => &["maturity", "licensing"],
        PostingKind::TrainingCapacity => &[],
    }
}

/// A demand or an offer of one organisation in one alliance.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Posting {
    pub id: String,
    pub alliance_id: String,
    pub kind: PostingKind,
    /// `demand` or `offer`, from the kind.
    pub direction: PostingDirection,
    /// Who posts it.
    pub organization: OrganizationSummary,
    /// `closed` with `close_reason: expired` once `closes_on` has passed.
    pub status: PostingStatus,
    pub close_reason: Option<CloseReason>,
    #[schema(value_type = String, example = "细胞药物研发技术员")]
    pub title_zh: Name,
    #[schema(value_type = Option<String>, example = "Cell therapy R&D technicians")]
    pub title_en: Option<Name>,
    pub description_zh: Option<String>,
    pub description_en: Option<String>,
    #[schema(example = json!(["生物制药技术"]))]
    pub majors: Vec<String>,
    pub level: Option<EducationLevel>,
    /// Where: a district or city (滨海新区).
    #[schema(example = "滨海新区")]
    pub region: Option<String>,
    /// People wanted (talent, project), graduates expected (talent
    /// supply) or places (training capacity).
    #[schema(example = 12)]
    pub headcount: Option<i64>,
    pub opens_on: Option<NaiveDate>,
    pub closes_on: Option<NaiveDate>,
    pub details: PostingDetails,
    /// Links to documents (job descriptions, briefs).
    #[schema(value_type = Vec<String>)]
    pub attachments: Vec<Url>,
    /// The poster's own reference, unique per organisation, for member
    /// systems that sync their postings.
    #[schema(example = "HR-2025-017")]
    pub external_ref: Option<String>,
    /// Listed publicly (`GET /public/postings`) while published, where the
    /// operator opens that listing.
    pub public: bool,
    /// What the secretariat said when it last published or returned it.
    pub review_comment: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    #[schema(example = 1)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Versioned for Posting {
    fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

/// Posts a demand or an offer into an alliance (as a draft, or straight to
/// review with `submit`): a member token for its own organisation, or the
/// alliance's secretariat on behalf of a member.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[schema(as = CreatePosting)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "kind": "talent",
    "organization": "kailaiying-pharma",
    "title_zh": "细胞药物研发技术员",
    "title_en": "Cell therapy R&D technicians",
    "description_zh": "参与CAR-T细胞药物工艺开发与质量检验。",
    "majors": ["生物制药技术"],
    "level": "higher_vocational",
    "region": "滨海新区",
    "headcount": 12,
    "opens_on": "2025-03-01",
    "closes_on": "2025-06-30",
    "details": {"positions": ["细胞培养技术员", "质量检验员"]},
    "submit": true
}))]
pub struct NewPosting {
    pub kind: PostingKind,
    /// The posting organisation (id or slug), a current member of the
    /// alliance. A member token may leave it out: its own organisation.
    pub organization: Option<String>,
    pub title_zh: Name,
    pub title_en: Option<Name>,
    #[validate(length(max = 8000))]
    pub description_zh: Option<String>,
    #[validate(length(max = 8000))]
    pub description_en: Option<String>,
    #[serde(default)]
    #[validate(custom(function = "check_terms"))]
    pub majors: Vec<String>,
    pub level: Option<EducationLevel>,
    #[validate(length(min = 1, max = 100))]
    pub region: Option<String>,
    #[validate(range(min = 1, max = 1_000_000, message = "at least 1"))]
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub headcount: Option<i64>,
    pub opens_on: Option<NaiveDate>,
    pub closes_on: Option<NaiveDate>,
    #[serde(default)]
    #[validate(nested)]
    pub details: PostingDetails,
    #[serde(default)]
    #[validate(length(max = 20, message = "at most 20 attachments"))]
    #[schema(value_type = Vec<String>)]
    pub attachments: Vec<Url>,
    #[validate(length(min = 1, max = 100))]
    pub external_ref: Option<String>,
    /// List it publicly once published (default `false`: members only).
    #[serde(default)]
    pub public: bool,
    /// Send it to the secretariat's review at once (`pending_review`)
    /// instead of keeping a draft.
    #[serde(default)]
    pub submit: bool,
}

/// Changes a posting that is not closed: absent fields stay, `null`
/// clears. A member's change to a published posting sends it back to review.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
#[schema(as = UpdatePosting)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"headcount": 15, "closes_on": "2025-07-31"}))]
pub struct PostingPatch {
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(value_type = Option<String>, nullable = false)]
    pub title_zh: Option<Name>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[schema(value_type = Option<String>)]
    pub title_en: Option<Option<Name>>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[validate(length(max = 8000))]
    #[schema(value_type = Option<String>)]
    pub description_zh: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[validate(length(max = 8000))]
    #[schema(value_type = Option<String>)]
    pub description_en: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[validate(custom(function = "check_terms"))]
    #[schema(nullable = false)]
    pub majors: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[schema(value_type = Option<EducationLevel>)]
    pub level: Option<Option<EducationLevel>>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[validate(length(min = 1, max = 100))]
    #[schema(value_type = Option<String>)]
    pub region: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[validate(range(min = 1, max = 1_000_000, message = "at least 1"))]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 1_000_000)]
    pub headcount: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub opens_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub closes_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[validate(nested)]
    #[schema(nullable = false)]
    pub details: Option<PostingDetails>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[validate(length(max = 20, message = "at most 20 attachments"))]
    #[schema(value_type = Option<Vec<String>>, nullable = false)]
    pub attachments: Option<Vec<Url>>,
    #[serde(default, deserialize_with = "crate::domain::patch::nullable")]
    #[validate(length(min = 1, max = 100))]
    #[schema(value_type = Option<String>)]
    pub external_ref: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::domain::patch::present")]
    #[schema(nullable = false)]
    pub public: Option<bool>,
}

/// A published posting as the public listing shows it: what was posted,
/// not who reviewed it, the poster's own reference or the attachments.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicPosting {
    pub id: String,
    /// The alliance (slug).
    #[schema(example = "teda-biomedicine")]
    pub alliance: String,
    pub kind: PostingKind,
    pub direction: PostingDirection,
    pub organization: OrganizationSummary,
    #[schema(value_type = String, example = "细胞药物研发技术员")]
    pub title_zh: Name,
    #[schema(value_type = Option<String>, example = "Cell therapy R&D technicians")]
    pub title_en: Option<Name>,
    pub description_zh: Option<String>,
    pub description_en: Option<String>,
    pub majors: Vec<String>,
    pub level: Option<EducationLevel>,
    pub region: Option<String>,
    pub headcount: Option<i64>,
    pub opens_on: Option<NaiveDate>,
    pub closes_on: Option<NaiveDate>,
    pub details: PostingDetails,
    pub published_at: Option<DateTime<Utc>>,
}

impl PublicPosting {
    pub fn of(p: Posting, alliance: String) -> Self {
        PublicPosting {
            id: p.id,
            alliance,
            kind: p.kind,
            direction: p.direction,
            organization: p.organization,
            title_zh: p.title_zh,
            title_en: p.title_en,
            description_zh: p.description_zh,
            description_en: p.description_en,
            majors: p.majors,
            level: p.level,
            region: p.region,
            headcount: p.headcount,
            opens_on: p.opens_on,
            closes_on: p.closes_on,
            details: p.details,
            published_at: p.published_at,
        }
    }
}

/// The secretariat's word on a posting under review.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"comment": "请补充岗位要求"}))]
pub struct PostingReview {
    /// Required to return a posting; optional to publish it.
    #[validate(length(min = 1, max = 2000))]
    pub comment: Option<String>,
}

/// Closes a posting: `filled` (published ones) or `withdrawn`.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "filled"}))]
pub struct ClosePosting {
    pub reason: CloseReason,
}

fn check_terms(terms: &[String]) -> Result<(), ValidationError> {
    let ok = terms.len() <= 20
        && terms
            .iter()
            .all(|t| Name::parse(t).is_ok_and(|n| n.as_str().chars().count() <= 100));
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new("invalid")
            .with_message("at most 20 entries of 1-100 characters each".into()))
    }
}

/// The rules across fields: each kind its own details and a headcount
/// where it counts heads, no close before the open, a budget range the
/// right way round. Returns the field at fault and why.
pub fn check(p: &Posting) -> Result<(), (String, String)> {
    let allowed = allowed_details(p.kind);
    if let Some(extra) = p
        .details
        .present()
        .into_iter()
        .find(|f| !allowed.contains(f))
    {
        return Err((
            format!("details.{extra}"),
            format!(
                "a `{}` posting takes {}",
                p.kind,
                if allowed.is_empty() {
                    "no details".to_owned()
                } else {
                    allowed.join(", ")
                }
            ),
        ));
    }
    if p.kind.counts_heads() && p.headcount.is_none() {
        return Err((
            "headcount".into(),
            format!("a `{}` posting says how many (at least 1)", p.kind),
        ));
    }
    if let (Some(open), Some(close)) = (p.opens_on, p.closes_on)
        && close < open
    {
        return Err((
            "closes_on".into(),
            format!("closes_on ({close}) is before opens_on ({open})"),
        ));
    }
    if let (Some(min), Some(max)) = (p.details.budget_min_cny, p.details.budget_max_cny)
        && max < min
    {
        return Err((
            "details.budget_max_cny".into(),
            format!("budget_max_cny ({max}) is below budget_min_cny ({min})"),
        ));
    }
    Ok(())
}

impl Posting {
    /// What `q` searches: both languages' titles and descriptions, majors
    /// and positions, in lower case.
    pub fn search_text(&self) -> String {
        let mut parts: Vec<String> = vec![self.title_zh.to_string()];
        parts.extend(self.title_en.iter().map(ToString::to_string));
        parts.extend(self.description_zh.iter().cloned());
        parts.extend(self.description_en.iter().cloned());
        parts.extend(self.majors.iter().cloned());
        parts.extend(self.details.positions.iter().cloned());
        parts.extend(self.details.problem.iter().cloned());
        parts.join("\n").to_lowercase()
    }

    /// The status as readers see it: a published posting past its close
    /// date (in Tianjin) is closed as `expired`.
    pub fn as_of(mut self, today: NaiveDate) -> Self {
        if self.status == PostingStatus::Published && self.closes_on.is_some_and(|c| c < today) {
            self.status = PostingStatus::Closed;
            self.close_reason = Some(CloseReason::Expired);
        }
        self
    }
}

text_enum!(
    MatchStatus {
        /// Proposed: waiting for one side or both to accept.
        Proposed = "proposed",
        /// Both sides accepted.
        Accepted = "accepted",
        /// Closed with an outcome.
        Closed = "closed",
    }
);

text_enum!(
    MatchSide {
        Demand = "demand",
        Offer = "offer",
    }
);

/// What a closed match came to: the figures derived KPIs count in the
/// year it closed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchOutcome {
    /// Students placed (人).
    #[validate(range(min = 0, max = 1_000_000))]
    #[schema(minimum = 0, maximum = 1_000_000, example = 12)]
    pub students_placed: Option<i64>,
    /// A contract signed, in yuan (元).
    #[validate(range(min = 0, max = 1_000_000_000_000_i64))]
    #[schema(minimum = 0, example = 800_000)]
    pub contract_amount_cny: Option<i64>,
    /// A project started.
    pub project_started: Option<bool>,
    #[validate(length(max = 2000))]
    pub note: Option<String>,
}

/// A demand and an offer of one alliance put together.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PostingMatch {
    pub id: String,
    pub alliance_id: String,
    pub demand: PostingRef,
    pub offer: PostingRef,
    pub status: MatchStatus,
    pub note: Option<String>,
    pub demand_accepted_at: Option<DateTime<Utc>>,
    pub offer_accepted_at: Option<DateTime<Utc>>,
    /// The day it closed; its outcome counts in that year.
    pub closed_on: Option<NaiveDate>,
    pub outcome: Option<MatchOutcome>,
    #[schema(example = 1)]
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Versioned for PostingMatch {
    fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

/// A posting as a match or a suggestion names it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PostingRef {
    pub id: String,
    pub kind: PostingKind,
    #[schema(value_type = String, example = "细胞药物研发技术员")]
    pub title_zh: Name,
    pub organization: OrganizationSummary,
    pub published_at: Option<DateTime<Utc>>,
}

impl From<&Posting> for PostingRef {
    fn from(p: &Posting) -> Self {
        PostingRef {
            id: p.id.clone(),
            kind: p.kind,
            title_zh: p.title_zh.clone(),
            organization: p.organization.clone(),
            published_at: p.published_at,
        }
    }
}

/// Proposes a match of a published demand and a published offer of the
/// alliance (its secretariat, or a member token of either side).
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[schema(as = CreateMatch)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"demand_id": "0193a1b2-…", "offer_id": "0193a1b3-…", "note": "专业对口"}))]
pub struct NewMatch {
    pub demand_id: String,
    pub offer_id: String,
    #[validate(length(max = 2000))]
    pub note: Option<String>,
}

/// Accepts a match for one side. A member token accepts for its own
/// organisation's side and may leave `side` out; the secretariat names it.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"side": "offer"}))]
pub struct AcceptMatch {
    pub side: Option<MatchSide>,
}

/// Closes an accepted match with what it came to.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"closed_on": "2025-07-01", "outcome": {"students_placed": 12}}))]
pub struct CloseMatch {
    pub closed_on: NaiveDate,
    #[validate(nested)]
    pub outcome: MatchOutcome,
}

/// Why a suggested counterpart matched, one reason per line.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MatchReason {
    /// `kind`, `majors`, `level`, `region`, `dates`.
    #[schema(example = "majors")]
    pub code: String,
    #[schema(example = "shared majors: 生物制药技术")]
    pub detail: String,
    /// What it adds to the score.
    #[schema(example = 30)]
    pub points: i64,
}

/// A published counterpart of a posting, with its score (0-100) and reasons.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Suggestion {
    pub posting: PostingRef,
    #[schema(example = 85)]
    pub score: i64,
    pub reasons: Vec<MatchReason>,
}

/// The structural score of a counterpart: kind first, then shared majors,
/// the same level and region, and overlapping open periods.
pub fn suggestion(of: &Posting, other: &Posting) -> Option<Suggestion> {
    if other.kind != of.kind.counterpart() || other.organization.id == of.organization.id {
        return None;
    }
    let mut reasons = vec![MatchReason {
        code: "kind".into(),
        detail: format!("{} ↔ {}", of.kind, other.kind),
        points: 40,
    }];
    let norm = |m: &String| m.trim().to_lowercase();
    let shared: Vec<&String> = of
        .majors
        .iter()
        .filter(|m| other.majors.iter().any(|o| norm(o) == norm(m)))
        .collect();
    if !shared.is_empty() {
        let names: Vec<&str> = shared.iter().map(|s| s.as_str()).collect();
        reasons.push(MatchReason {
            code: "majors".into(),
            detail: format!("shared majors: {}", names.join(", ")),
            points: 30,
        });
    }
    if let (Some(a), Some(b)) = (of.level, other.level)
        && a == b
    {
        reasons.push(MatchReason {
            code: "level".into(),
            detail: format!("both at level {a}"),
            points: 15,
        });
    }
    if let (Some(a), Some(b)) = (&of.region, &other.region)
        && a.trim() == b.trim()
    {
        reasons.push(MatchReason {
            code: "region".into(),
            detail: format!("both in {a}"),
            points: 10,
        });
    }
    let overlap = of
        .opens_on
        .is_none_or(|o| other.closes_on.is_none_or(|c| o <= c))
        && other
            .opens_on
            .is_none_or(|o| of.closes_on.is_none_or(|c| o <= c));
    if overlap {
        reasons.push(MatchReason {
            code: "dates".into(),
            detail: "open at the same time".into(),
            points: 5,
        });
    }
    Some(Suggestion {
        posting: PostingRef::from(other),
        score: reasons.iter().map(|r| r.points).sum(),
        reasons,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_pairs_with_one_of_the_other_direction() {
        for kind in PostingKind::ALL {
            assert_ne!(kind.direction(), kind.counterpart().direction(), "{kind}");
            assert_eq!(kind.counterpart().counterpart(), *kind);
        }
    }
}
