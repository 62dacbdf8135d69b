//! The analytics of the agent API, behind the admin token: the figures of
//! a period (`GET /v1/admin/analytics`) and the conversations behind any
//! one of them (`GET /v1/admin/analytics/conversations`).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::Json;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan as _};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::admin::{ADMIN, Admin, cursor, limit, next_page};
use super::error::{ApiQuery, Code, QUERY, STORE};
use super::{ApiError, AppState};
use crate::analytics::{self, Conversation, Escalated, Figures, Filter, Metric, Settings};
use crate::conversation::rfc3339;
use crate::store::Cursor;

/// The longest period asked at once.
const MAX_DAYS: i64 = 366;

/// The period when none is asked: the last 7 days, today included.
const DEFAULT_DAYS: i64 = 7;

/// The analytics' routes, each with its part of the `OpenAPI` document.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(figures))
        .routes(routes!(conversations))
}

/// The period and filters both routes take.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AnalyticsQuery {
    /// The start: RFC 3339, or a date (its first moment, in the business
    /// hours' time zone).
    pub from: Option<String>,
    /// The end: RFC 3339 (excluded), or a date (included).
    pub to: Option<String>,
    /// Only this channel.
    pub channel: Option<String>,
    /// Only this locale.
    pub locale: Option<String>,
}

/// `GET /v1/admin/analytics`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AnalyticsResponse {
    /// The period's start (RFC 3339).
    pub from: String,
    /// The period's end, excluded (RFC 3339).
    pub to: String,
    /// The time zone of the days.
    pub time_zone: String,
    /// The silence after an answer that settles a conversation, in minutes.
    pub silence_minutes: u32,
    /// The filters applied.
    pub channel: Option<String>,
    /// The filters applied.
    pub locale: Option<String>,
    /// Every conversation that passes the filters: counts, resolution,
    /// fallback, escalations, intents, unmatched groups, satisfaction,
    /// first replies and the same by day (see the README).
    #[schema(value_type = Object)]
    pub figures: Figures,
    /// The same by channel.
    #[schema(value_type = BTreeMap<String, Object>)]
    pub by_channel: BTreeMap<String, Figures>,
    /// The same by locale.
    #[schema(value_type = BTreeMap<String, Object>)]
    pub by_locale: BTreeMap<String, Figures>,
}

/// The query of `GET /v1/admin/analytics/conversations`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DrillQuery {
    /// What to list: `all`, `resolved`, `reopened`, `unresolved`,
    /// `fallback`, `escalated`, `intent`, `unmatched`, `csat`,
    /// `late_reply`.
    pub metric: String,
    /// With `escalated`: only this reason.
    pub reason: Option<String>,
    /// With `escalated`: only this priority.
    pub priority: Option<String>,
    /// With `intent`: the intent.
    pub intent: Option<String>,
    /// With `unmatched`: the group.
    pub group: Option<String>,
    /// With `csat`: only this score.
    pub score: Option<i64>,
    /// Only conversations started this day (`YYYY-MM-DD`).
    pub date: Option<String>,
    /// See [`AnalyticsQuery`].
    pub from: Option<String>,
    /// See [`AnalyticsQuery`].
    pub to: Option<String>,
    /// See [`AnalyticsQuery`].
    pub channel: Option<String>,
    /// See [`AnalyticsQuery`].
    pub locale: Option<String>,
    /// At most this many (50 unless given, at most 500).
    pub limit: Option<i64>,
    /// The `next` of the page before.
    pub after: Option<String>,
}

/// `GET /v1/admin/analytics/conversations`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DrillResponse {
    /// The conversations, newest first.
    pub conversations: Vec<DrilledConversation>,
    /// How many in all.
    pub total: usize,
    /// The `after` of the next page, when there may be one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// One conversation behind a figure.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DrilledConversation {
    /// Its id (see `GET /v1/admin/conversations/{id}`).
    pub id: String,
    /// `chat` or `email`.
    pub channel: String,
    /// Its locale, `unknown` before one showed.
    pub locale: String,
    /// When it started (RFC 3339).
    pub created_at: String,
    /// Its one-line summary.
    pub summary: Option<String>,
    /// Messages from the customer.
    pub customer_messages: u32,
    /// Whether the bot settled it.
    pub resolved: bool,
    /// `thanks` or `silence`, when it did.
    pub settled_by: Option<analytics::SettledBy>,
    /// Whether the customer came back after.
    pub reopened: bool,
    /// Its handoffs.
    pub escalations: Vec<Escalated>,
    /// Satisfaction scores given.
    pub csat: Vec<i64>,
    /// The messages that make it count, for context.
    pub messages: Vec<ContextMessage>,
}

/// A message of a drilled conversation.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContextMessage {
    /// Its place.
    pub seq: i64,
    /// What the customer wrote.
    pub text: String,
}

/// A period: from, until (excluded), in milliseconds; and its days.
struct Period {
    from: Timestamp,
    until: Timestamp,
}

fn parse_bound(value: &str, name: &str, end: bool, zone: &TimeZone) -> Result<Timestamp, ApiError> {
    if let Ok(at) = value.parse::<Timestamp>() {
        return Ok(at);
    }
    let date: jiff::civil::Date = value.parse().map_err(|_| {
        ApiError::invalid(format!(
            "`{name}` must be an RFC 3339 time or a date (YYYY-MM-DD)"
        ))
    })?;
    // A date as the end includes its whole day.
    let day = if end {
        date.checked_add(1.day())
            .map_err(|e| ApiError::invalid(format!("`{name}`: {e}")))?
    } else {
        date
    };
    day.to_zoned_datetime(zone.clone())
        .map(|z| z.timestamp())
        .map_err(|e| ApiError::invalid(format!("`{name}`: {e}")))
}

fn period(query: &AnalyticsQuery, zone: &TimeZone, now: Timestamp) -> Result<Period, ApiError> {
    let until = match query.to.as_deref() {
        Some(to) => parse_bound(to, "to", true, zone)?,
        None => now,
    };
    let from = if let Some(from) = query.from.as_deref() {
        parse_bound(from, "from", false, zone)?
    } else {
        let today = until.to_zoned_datetime(zone.clone()).date();
        today
            .checked_sub((DEFAULT_DAYS - 1).days())
            .and_then(|d| d.to_zoned_datetime(zone.clone()))
            .map(|z| z.timestamp())
            .map_err(|e| ApiError::invalid(e.to_string()))?
    };
    if from >= until {
        return Err(ApiError::new(
            Code::OutOfRange,
            "`from` must be before `to`",
        ));
    }
    if until.as_millisecond() - from.as_millisecond() > MAX_DAYS * 24 * 3_600_000 {
        return Err(ApiError::new(
            Code::OutOfRange,
            format!("a period is at most {MAX_DAYS} days"),
        ));
    }
    Ok(Period { from, until })
}

/// Every day the period touches, in `zone`.
fn days(period: &Period, zone: &TimeZone) -> Vec<String> {
    let first = period.from.to_zoned_datetime(zone.clone()).date();
    let last_moment =
        Timestamp::from_millisecond(period.until.as_millisecond() - 1).unwrap_or(period.until);
    let last = last_moment.to_zoned_datetime(zone.clone()).date();
    first
        .series(1.day())
        .take_while(|d| *d <= last)
        .map(|d| d.to_string())
        .collect()
}

/// The conversations of the period, as the analytics see them, now.
async fn analysed(
    state: &AppState,
    period: &Period,
    zone: &TimeZone,
    now: Timestamp,
) -> Result<Vec<Conversation>, ApiError> {
    let rows = state
        .store
        .analytics_rows(period.from.as_millisecond(), period.until.as_millisecond())
        .await?;
    let rules = state.rules.current();
    let policy = rules.policy();
    let due = |channel: &str, at: i64| {
        let channel = channel.parse().ok()?;
        let at = Timestamp::from_millisecond(at).ok()?;
        policy
            .hours
            .add_open_time(at, policy.escalation.response_time(channel))
            .map(|z| z.timestamp().as_millisecond())
    };
    let settings = Settings {
        silence_ms: i64::from(state.settings.analytics_silence_minutes) * 60_000,
        ..Settings::default()
    };
    Ok(analytics::analyse(
        &rows,
        settings,
        now.as_millisecond(),
        zone,
        &due,
    ))
}

fn time_zone(state: &AppState) -> TimeZone {
    state.rules.current().policy().hours.time_zone().clone()
}

fn filter(channel: Option<&String>, locale: Option<&String>) -> Filter {
    Filter {
        channel: channel.cloned(),
        locale: locale.cloned(),
    }
}

api_errors!(
    /// `GET /v1/admin/analytics`.
    FiguresErrors = ADMIN,
    QUERY,
    &[Code::OutOfRange],
    STORE,
);

/// The figures of a period (the last 7 days unless asked), overall, by
/// channel and by locale.
#[utoipa::path(get, path = "/v1/admin/analytics", tag = "agent", params(AnalyticsQuery),
    responses((status = 200, description = "The figures of the period.", body = AnalyticsResponse),
        FiguresErrors),
    security(("admin_token" = [])))]
async fn figures(
    State(state): State<AppState>,
    _admin: Admin,
    ApiQuery(query): ApiQuery<AnalyticsQuery>,
) -> Result<Json<AnalyticsResponse>, ApiError> {
    let zone = time_zone(&state);
    let now = Timestamp::now();
    let period = period(&query, &zone, now)?;
    let conversations = analysed(&state, &period, &zone, now).await?;
    let report = analytics::report(
        &conversations,
        &filter(query.channel.as_ref(), query.locale.as_ref()),
        &days(&period, &zone),
    );
    Ok(Json(AnalyticsResponse {
        from: period.from.to_string(),
        to: period.until.to_string(),
        time_zone: zone.iana_name().unwrap_or("UTC").to_owned(),
        silence_minutes: state.settings.analytics_silence_minutes,
        channel: query.channel,
        locale: query.locale,
        figures: report.figures,
        by_channel: report.by_channel,
        by_locale: report.by_locale,
    }))
}

fn metric(query: &DrillQuery) -> Result<Metric, ApiError> {
    let needs = |value: Option<&String>, name: &str| {
        value
            .cloned()
            .ok_or_else(|| ApiError::invalid(format!("`metric={}` needs `{name}`", query.metric)))
    };
    Ok(match query.metric.as_str() {
        "all" => Metric::All,
        "resolved" => Metric::Resolved,
        "reopened" => Metric::Reopened,
        "unresolved" => Metric::Unresolved,
        "fallback" => Metric::Fallback,
        "escalated" => Metric::Escalated {
            reason: query.reason.clone(),
            priority: query.priority.clone(),
        },
        "intent" => Metric::Intent(needs(query.intent.as_ref(), "intent")?),
        "unmatched" => Metric::Unmatched(needs(query.group.as_ref(), "group")?),
        "csat" => Metric::Csat(query.score),
        "late_reply" => Metric::LateReply,
        other => {
            return Err(ApiError::new(
                Code::UnknownFilter,
                format!(
                    "unknown metric `{other}`: all, resolved, reopened, unresolved, fallback, \
                     escalated, intent, unmatched, csat or late_reply"
                ),
            ));
        }
    })
}

api_errors!(
    /// `GET /v1/admin/analytics/conversations`.
    DrillErrors = ADMIN,
    QUERY,
    &[Code::UnknownFilter, Code::OutOfRange],
    STORE,
);

/// The conversations behind one figure, newest first, a page at a time.
#[utoipa::path(get, path = "/v1/admin/analytics/conversations", tag = "agent", params(DrillQuery),
    responses((status = 200, description = "A page of the conversations behind the figure.",
        body = DrillResponse), DrillErrors),
    security(("admin_token" = [])))]
async fn conversations(
    State(state): State<AppState>,
    _admin: Admin,
    ApiQuery(query): ApiQuery<DrillQuery>,
) -> Result<Json<DrillResponse>, ApiError> {
    let metric = metric(&query)?;
    let limit = limit(query.limit)?;
    let after = cursor(query.after.as_deref())?;
    let zone = time_zone(&state);
    let now = Timestamp::now();
    let period = period(
        &AnalyticsQuery {
            from: query.from.clone(),
            to: query.to.clone(),
            channel: None,
            locale: None,
        },
        &zone,
        now,
    )?;
    let conversations = analysed(&state, &period, &zone, now).await?;
    let filter = filter(query.channel.as_ref(), query.locale.as_ref());
    let mut found: Vec<(&Conversation, Vec<i64>)> = conversations
        .iter()
        .filter(|c| filter.admits(c))
        .filter(|c| query.date.as_ref().is_none_or(|d| *d == c.date))
        .filter_map(|c| analytics::matches(&metric, c).map(|seqs| (c, seqs)))
        .collect();
    found.sort_by(|(a, _), (b, _)| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    let total = found.len();
    let page: Vec<(&Conversation, Vec<i64>)> = found
        .into_iter()
        .filter(|(c, _)| {
            after.as_ref().is_none_or(|after| {
                c.created_at < after.at || (c.created_at == after.at && c.id < after.id)
            })
        })
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect();
    let next = next_page(&page, limit, |(c, _)| Cursor {
        at: c.created_at,
        id: c.id.clone(),
    });
    Ok(Json(DrillResponse {
        conversations: page
            .into_iter()
            .map(|(c, seqs)| drilled(c, &seqs))
            .collect(),
        total,
        next,
    }))
}

fn drilled(c: &Conversation, seqs: &[i64]) -> DrilledConversation {
    DrilledConversation {
        id: c.id.clone(),
        channel: c.channel.clone(),
        locale: c.locale.clone(),
        created_at: rfc3339(c.created_at),
        summary: c.summary.clone(),
        customer_messages: c.customer_messages,
        resolved: c.outcome.is_resolved(),
        settled_by: c.outcome.settled_by,
        reopened: c.outcome.reopened,
        escalations: c.escalations.clone(),
        csat: c.csat.clone(),
        messages: seqs
            .iter()
            .map(|seq| ContextMessage {
                seq: *seq,
                text: c.texts.get(seq).cloned().unwrap_or_default(),
            })
            .collect(),
    }
}
