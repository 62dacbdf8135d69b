//! The service's Prometheus metrics: their names (all `madoguchi_`), what
//! each counts, and the one recorder of the process. Counters are recorded
//! where things happen (through the `metrics` facade, which costs an atomic
//! add); what the database knows (outbox depth, the oldest pending
//! handoff) is read when the metrics are scraped.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Customer messages decided, by `channel` and `locale`.
pub const MESSAGES: &str = "madoguchi_messages_total";
/// Messages answered by an intent, by `intent`.
pub const INTENTS: &str = "madoguchi_intents_matched_total";
/// Messages no intent answered, by `channel`.
pub const FALLBACKS: &str = "madoguchi_fallbacks_total";
/// Escalations, by `reason` and `priority`.
pub const ESCALATIONS: &str = "madoguchi_escalations_total";
/// Handoff delivery attempts, by `outcome` (`delivered`, `retry`, `dead`,
/// `lease_lost`).
pub const HANDOFF_DELIVERIES: &str = "madoguchi_handoff_deliveries_total";
/// Handoffs in the outbox, by `status`.
pub const OUTBOX: &str = "madoguchi_outbox_handoffs";
/// Age of the oldest handoff waiting to be delivered, in seconds (0: none).
pub const OUTBOX_OLDEST: &str = "madoguchi_outbox_oldest_pending_seconds";
/// Mails received, by `outcome` (`taken`, `not_answered`, `bounce`,
/// `duplicate`, `quarantined`).
pub const MAIL_RECEIVED: &str = "madoguchi_email_received_total";
/// Mails not answered automatically, by `reason` (the header or limit that
/// decided).
pub const MAIL_NOT_ANSWERED: &str = "madoguchi_email_not_answered_total";
/// Mail sending attempts, by `outcome` (`sent`, `retry`, `dead`).
pub const MAIL_DELIVERIES: &str = "madoguchi_email_deliveries_total";
/// Mails in the mail outbox, by `status`.
pub const MAIL_OUTBOX: &str = "madoguchi_email_outbox";
/// HTTP requests, by `route`, `method` and `status`, in seconds.
pub const REQUESTS: &str = "madoguchi_http_request_duration_seconds";
/// Rule reloads, by `outcome` (`changed`, `unchanged`, `refused`) and
/// `trigger`.
pub const RELOADS: &str = "madoguchi_rules_reloads_total";
/// 1 for the rule-set version in force, by `version`.
pub const RULES: &str = "madoguchi_rules_info";
/// Intents of the rule set in force.
pub const RULES_INTENTS: &str = "madoguchi_rules_intents";
/// Live event streams open on this replica.
pub const STREAMS: &str = "madoguchi_live_streams";

/// Request latencies, from half a millisecond to ten seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static RECORDER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's recorder, installed on first use; `None` when another
/// recorder was installed before (then nothing is exported).
pub fn recorder() -> Option<&'static PrometheusHandle> {
    RECORDER
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(REQUESTS.to_owned()), LATENCY_BUCKETS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            describe();
            // Histograms keep their samples until upkeep folds them in:
            // without a scrape they would grow with the traffic.
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".to_owned())
                .spawn(move || {
                    loop {
                        std::thread::sleep(std::time::Duration::from_secs(5));
                        upkeep.run_upkeep();
                    }
                })
                .ok()?;
            Some(handle)
        })
        .as_ref()
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(MESSAGES, "Customer messages decided, by channel and locale");
    describe_counter!(INTENTS, "Messages answered by an intent");
    describe_counter!(FALLBACKS, "Messages no intent answered");
    describe_counter!(
        ESCALATIONS,
        "Escalations to a person, by reason and priority"
    );
    describe_counter!(HANDOFF_DELIVERIES, "Handoff delivery attempts by outcome");
    describe_gauge!(OUTBOX, "Handoffs in the outbox by status");
    describe_gauge!(
        OUTBOX_OLDEST,
        Unit::Seconds,
        "Age of the oldest handoff waiting to be delivered"
    );
    describe_counter!(MAIL_RECEIVED, "Mails received by outcome");
    describe_counter!(
        MAIL_NOT_ANSWERED,
        "Mails not answered automatically, by the header or limit that decided"
    );
    describe_counter!(MAIL_DELIVERIES, "Mail sending attempts by outcome");
    describe_gauge!(MAIL_OUTBOX, "Mails in the mail outbox by status");
    describe_histogram!(REQUESTS, Unit::Seconds, "HTTP request latency by route");
    describe_counter!(RELOADS, "Rule reloads by outcome and trigger");
    describe_gauge!(RULES, "1 for the rule-set version in force");
    describe_gauge!(RULES_INTENTS, "Intents of the rule set in force");
    describe_gauge!(STREAMS, "Live event streams open on this replica");
}

/// Notes the rule-set version in force (and that `previous` no longer is).
pub fn rules_in_force(version: &str, previous: Option<&str>, intents: usize) {
    if let Some(previous) = previous.filter(|p| *p != version) {
        metrics::gauge!(RULES, "version" => previous.to_owned()).set(0.0);
    }
    metrics::gauge!(RULES, "version" => version.to_owned()).set(1.0);
    metrics::gauge!(RULES_INTENTS).set(intents as f64);
}
