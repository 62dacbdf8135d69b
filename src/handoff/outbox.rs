//! The outbox worker: the only code that talks to the ticket system.
//!
//! A handoff is written to the outbox in the same transaction as the
//! escalation. The worker takes the one due first (holding it for a lease,
//! so that another worker or replica does not take it too), sends it, and
//! records the outcome: delivered; retried later, on a schedule with jitter
//! and not before the system's `Retry-After`; or dead-lettered when the
//! failure is permanent or the schedule is spent. A worker that dies
//! mid-delivery leaves the handoff to be taken again when the lease ends;
//! the receiver recognises the retry by its unchanged `webhook-id`.
//!
//! [`Outbox::step`] is one such turn, with its [`Step`] outcome, so tests
//! drive the worker one step at a time with a [`ManualClock`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::{Notify, watch};

use super::bundle::{self, Bounds, Envelope};
use super::delivery::{self, Response, Target};
use crate::conversation::{self, Delivered, Events};
use crate::escalation::Escalation;
use crate::rules::LiveRules;
use crate::store::{Claimed, ConversationRecord, HandoffRecord, MessageRecord, Store, StoreError};

/// Where the time comes from: the system's clock, or a test's.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// The system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that moves only when told, for tests of the schedule.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    /// A clock showing `at`.
    #[must_use]
    pub fn new(at: Timestamp) -> Self {
        ManualClock(Mutex::new(at))
    }

    /// Moves the clock on.
    pub fn advance(&self, by: Duration) {
        let mut now = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *now = now
            .checked_add(SignedDuration::try_from(by).unwrap_or(SignedDuration::MAX))
            .unwrap_or(*now);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// When to try again after each failed attempt.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// The wait after the first failure, the second, ...; when they are
    /// spent, the handoff is dead-lettered.
    pub delays: Vec<Duration>,
    /// Each wait is lengthened by up to this fraction, at random, so that
    /// retries after an outage do not all come at once.
    pub jitter: f64,
}

impl Default for Schedule {
    /// The Standard Webhooks schedule: immediately, then 5 s, 5 min,
    /// 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h — about three days.
    fn default() -> Self {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        Schedule {
            delays: vec![
                Duration::from_secs(5),
                minutes(5),
                minutes(30),
                minutes(120),
                minutes(300),
                minutes(600),
                minutes(840),
                minutes(1200),
                minutes(1440),
            ],
            jitter: 0.1,
        }
    }
}

impl Schedule {
    /// When to try again after the `attempts`-th attempt failed, the
    /// receiver's own `after` counting up to the longest wait of the
    /// schedule (a `Retry-After` of a year must not park the delivery);
    /// `None` when the schedule is spent.
    #[must_use]
    pub fn next_attempt(
        &self,
        attempts: i64,
        after: Option<Duration>,
        now: Timestamp,
    ) -> Option<Timestamp> {
        let failed = usize::try_from(attempts).unwrap_or(usize::MAX);
        let delay = self.delays.get(failed.saturating_sub(1))?;
        let longest = self.delays.iter().max().copied().unwrap_or(*delay);
        let wait = jittered(*delay, self.jitter).max(after.unwrap_or_default().min(longest));
        Some(
            SignedDuration::try_from(wait)
                .ok()
                .and_then(|wait| now.checked_add(wait).ok())
                .unwrap_or(jiff::Timestamp::MAX),
        )
    }

    /// The end of a lease taken at `now`.
    #[must_use]
    pub fn lease_end(now: Timestamp) -> Timestamp {
        now.checked_add(SignedDuration::try_from(LEASE).unwrap_or(SignedDuration::MAX))
            .unwrap_or(now)
    }
}

/// Runs `lanes` concurrent loops of `step` until `stopping` turns true:
/// each steps while there is work (`step` answers `Ok(true)`), then waits
/// for `wake` or the next poll. The handoff outbox and the mail outbox
/// both run this way.
pub async fn run_lanes<F, Fut>(
    lanes: usize,
    stopping: watch::Receiver<bool>,
    wake: Arc<Notify>,
    step: F,
) where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<bool, StoreError>>,
{
    let lane = |mut stopping: watch::Receiver<bool>, wake: Arc<Notify>| {
        let step = &step;
        async move {
            loop {
                if *stopping.borrow() {
                    return;
                }
                let idle = match step().await {
                    Ok(worked) => !worked,
                    Err(err) => {
                        tracing::error!(error = %err, "outbox step failed");
                        true
                    }
                };
                if idle {
                    tokio::select! {
                        () = wake.notified() => {}
                        () = tokio::time::sleep(POLL) => {}
                        _ = stopping.changed() => return,
                    }
                }
            }
        }
    };
    let all = (0..lanes).map(|_| lane(stopping.clone(), Arc::clone(&wake)));
    futures_util::future::join_all(all).await;
}

/// What one step of the worker did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Nothing was due.
    Empty,
    /// The handoff was delivered.
    Delivered {
        /// Which.
        id: String,
        /// The ticket's reference, if the system gave one.
        ticket_id: Option<String>,
    },
    /// It failed and will be tried again at `at`.
    Retry {
        /// Which.
        id: String,
        /// When.
        at: Timestamp,
    },
    /// It failed for good and waits for an operator.
    DeadLettered {
        /// Which.
        id: String,
    },
    /// The lease ran out before the outcome was written: another worker
    /// has it now, and this outcome was dropped.
    LeaseLost {
        /// Which.
        id: String,
    },
}

/// How long a taken handoff is held by its worker: well over the longest
/// delivery the configuration allows (`MAX_TIMEOUT`), so that a lease runs
/// out only when its worker is gone.
const LEASE: Duration = Duration::from_mins(2);

/// The longest the worker may wait for the ticket system.
pub const MAX_TIMEOUT: Duration = Duration::from_mins(1);

/// How often an idle worker looks for due handoffs (it is also woken when a
/// handoff is created).
const POLL: Duration = Duration::from_secs(1);

/// Deliveries under way at once: a ticket system that is slow to answer one
/// handoff does not hold up the others, and no more than these few
/// requests wait on it.
const DELIVERIES: usize = 4;

/// The outbox worker.
pub struct Outbox {
    store: Store,
    rules: Arc<LiveRules>,
    events: Events,
    target: Target,
    client: reqwest::Client,
    schedule: Schedule,
    clock: Arc<dyn Clock>,
    bounds: Bounds,
}

impl Outbox {
    /// A worker delivering to `target`, waiting at most `timeout` for an
    /// answer.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(
        store: Store,
        rules: Arc<LiveRules>,
        events: Events,
        target: Target,
        timeout: Duration,
        schedule: Schedule,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            // A redirect would be followed as a GET without the body, and
            // its 200 taken for the ticket system's: a 3xx is a failure,
            // reported with where it points.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("madoguchi/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Outbox {
            store,
            rules,
            events,
            target,
            client,
            schedule,
            clock,
            bounds: Bounds::default(),
        })
    }

    /// The same worker, building handoffs within `bounds`.
    #[must_use]
    pub fn bounded(mut self, bounds: Bounds) -> Self {
        self.bounds = bounds;
        self
    }

    /// Takes the handoff due first and tries to deliver it.
    ///
    /// # Errors
    /// When the store fails (the handoff then stays in the outbox).
    pub async fn step(&self) -> Result<Step, StoreError> {
        let step = self.take_one().await?;
        let outcome = match &step {
            Step::Empty => return Ok(step),
            Step::Delivered { .. } => "delivered",
            Step::Retry { .. } => "retry",
            Step::DeadLettered { .. } => "dead",
            Step::LeaseLost { .. } => "lease_lost",
        };
        metrics::counter!(crate::telemetry::HANDOFF_DELIVERIES, "outcome" => outcome).increment(1);
        Ok(step)
    }

    async fn take_one(&self) -> Result<Step, StoreError> {
        let now = self.clock.now();
        let lease_end = Schedule::lease_end(now);
        match self
            .store
            .claim_handoff(now.as_millisecond(), lease_end.as_millisecond())
            .await?
        {
            None => Ok(Step::Empty),
            Some(Claimed::Handoff(handoff)) => self.attempt(&handoff, now).await,
            // Retrying cannot make it readable: an operator must look, so
            // it goes where operators look.
            Some(Claimed::Unreadable {
                id,
                attempts,
                error,
            }) => {
                let error = format!("the handoff's stored data is unreadable: {error}");
                self.dead_letter(&id, "-", attempts, &error, now).await
            }
        }
    }

    /// One delivery attempt of a claimed handoff.
    #[tracing::instrument(
        name = "handoff_attempt",
        skip_all,
        fields(handoff = %handoff.id, conversation = %handoff.conversation_id)
    )]
    async fn attempt(&self, handoff: &HandoffRecord, now: Timestamp) -> Result<Step, StoreError> {
        let (envelope, body) = match self.payload(handoff).await {
            Ok(Some(payload)) => payload,
            Ok(None) => {
                return self
                    .dead(handoff, "the conversation no longer exists", now)
                    .await;
            }
            // Retrying cannot make unreadable data readable: an operator
            // must look, so the handoff goes where operators look.
            Err(StoreError::Corrupt(why)) => {
                let error = format!("the conversation's stored data is unreadable: {why}");
                return self.dead(handoff, &error, now).await;
            }
            Err(err) => return Err(err),
        };
        let Some(request) = self.target.request(&self.client, &envelope, &body, now) else {
            let error = "the handoff this update adds to has no ticket id from the ticket system";
            return self.dead(handoff, error, now).await;
        };
        let response = match request.send().await {
            Ok(response) => delivery::read(response, now).await,
            Err(err) => Response::Retry {
                error: describe(err),
                after: None,
            },
        };
        match response {
            Response::Accepted { ticket_id, url } => {
                self.delivered(handoff, ticket_id, url, now).await
            }
            Response::Retry { error, after } => self.retry(handoff, &error, after, now).await,
            Response::Permanent { error } => self.dead(handoff, &error, now).await,
        }
    }

    /// The event and the exact body to send: built at the first attempt and
    /// stored, then sent unchanged on every retry. `None` when the
    /// conversation is gone (its customer was deleted meanwhile).
    async fn payload(
        &self,
        handoff: &HandoffRecord,
    ) -> Result<Option<(Envelope, String)>, StoreError> {
        if let Some(body) = &handoff.payload
            && let Ok(envelope) = serde_json::from_str::<Envelope>(body)
        {
            return Ok(Some((envelope, body.clone())));
        }
        let Some(conversation) = self.store.conversation(&handoff.conversation_id).await? else {
            return Ok(None);
        };
        let messages = self.store.transcript(&conversation.id).await?;
        let envelope = if let Some(parent) = &handoff.updates {
            // Claimed only once the handoff it adds to was delivered; gone
            // only with its conversation.
            let Some(parent) = self.store.handoff(parent).await? else {
                return Ok(None);
            };
            let since = self
                .store
                .updated_up_to(handoff)
                .await?
                .map_or(parent.seq, |seq| seq.max(parent.seq));
            bundle::build_update(handoff, &parent, since, &conversation, &messages)?
        } else {
            self.created(handoff, &conversation, &messages).await?
        };
        let body =
            serde_json::to_string(&envelope).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.store.set_handoff_payload(&handoff.id, &body).await?;
        Ok(Some((envelope, body)))
    }

    /// The `handoff.created` event of `handoff`.
    async fn created(
        &self,
        handoff: &HandoffRecord,
        conversation: &ConversationRecord,
        messages: &[MessageRecord],
    ) -> Result<Envelope, StoreError> {
        let earlier = self
            .store
            .earlier_conversations(&conversation.customer_id, &conversation.id)
            .await?;
        let mails = if conversation.channel == crate::rules::Channel::Email {
            self.store.conversation_mails(&conversation.id).await?
        } else {
            Vec::new()
        };
        bundle::build(
            &self.rules.current(),
            handoff,
            conversation,
            messages,
            &earlier,
            &mails,
            &self.bounds,
        )
    }

    async fn delivered(
        &self,
        handoff: &HandoffRecord,
        ticket_id: Option<String>,
        url: Option<String>,
        now: Timestamp,
    ) -> Result<Step, StoreError> {
        let held = self
            .store
            .handoff_delivered(
                &handoff.id,
                handoff.attempts,
                ticket_id.as_deref(),
                url.as_deref(),
                now.as_millisecond(),
            )
            .await?;
        if !held {
            return Ok(lease_lost(&handoff.id));
        }
        tracing::info!(
            handoff = %handoff.id,
            conversation = %handoff.conversation_id,
            attempts = handoff.attempts,
            ticket = ticket_id.as_deref().unwrap_or("-"),
            "handoff delivered"
        );
        // An update adds to the ticket the customer already knows of.
        if handoff.updates.is_none() {
            let delivered = Delivered {
                escalation: Escalation {
                    reason: handoff.reason,
                    priority: handoff.priority,
                },
                ticket_id: ticket_id.as_deref(),
                url: url.as_deref(),
            };
            if let Err(err) = conversation::handoff_delivered(
                &self.store,
                &self.rules.current(),
                &self.events,
                &handoff.conversation_id,
                delivered,
                now,
            )
            .await
            {
                tracing::warn!(handoff = %handoff.id, error = %err, "the conversation was not told of its delivered handoff");
            }
        }
        Ok(Step::Delivered {
            id: handoff.id.clone(),
            ticket_id,
        })
    }

    async fn retry(
        &self,
        handoff: &HandoffRecord,
        error: &str,
        after: Option<Duration>,
        now: Timestamp,
    ) -> Result<Step, StoreError> {
        let Some(at) = self.schedule.next_attempt(handoff.attempts, after, now) else {
            let error = format!(
                "retry schedule spent after {} attempts; last error: {error}",
                handoff.attempts
            );
            return self.dead(handoff, &error, now).await;
        };
        let held = self
            .store
            .handoff_retry(
                &handoff.id,
                handoff.attempts,
                at.as_millisecond(),
                error,
                now.as_millisecond(),
            )
            .await?;
        if !held {
            return Ok(lease_lost(&handoff.id));
        }
        tracing::warn!(handoff = %handoff.id, attempts = handoff.attempts, next = %at, error, "handoff delivery failed; will retry");
        Ok(Step::Retry {
            id: handoff.id.clone(),
            at,
        })
    }

    async fn dead(
        &self,
        handoff: &HandoffRecord,
        error: &str,
        now: Timestamp,
    ) -> Result<Step, StoreError> {
        self.dead_letter(
            &handoff.id,
            &handoff.conversation_id,
            handoff.attempts,
            error,
            now,
        )
        .await
    }

    async fn dead_letter(
        &self,
        id: &str,
        conversation: &str,
        attempts: i64,
        error: &str,
        now: Timestamp,
    ) -> Result<Step, StoreError> {
        let held = self
            .store
            .handoff_dead(id, attempts, error, now.as_millisecond())
            .await?;
        if !held {
            return Ok(lease_lost(id));
        }
        tracing::error!(handoff = %id, conversation, error, "handoff dead-lettered");
        Ok(Step::DeadLettered { id: id.to_owned() })
    }

    /// Delivers until `stopping` turns true, a few handoffs at a time: each
    /// delivery steps while handoffs are due, then waits for a new one
    /// (`wake`) or the next poll.
    pub async fn run(self, stopping: watch::Receiver<bool>, wake: Arc<Notify>) {
        run_lanes(DELIVERIES, stopping, wake, || async {
            self.step().await.map(|step| step != Step::Empty)
        })
        .await;
    }
}

fn lease_lost(id: &str) -> Step {
    tracing::warn!(handoff = %id, "lease ran out during the delivery; another worker has the handoff");
    Step::LeaseLost { id: id.to_owned() }
}

/// `delay` lengthened by a random fraction below `jitter`.
fn jittered(delay: Duration, jitter: f64) -> Duration {
    if jitter <= 0.0 {
        return delay;
    }
    let mut bytes = [0u8; 4];
    if getrandom::fill(&mut bytes).is_err() {
        return delay;
    }
    let fraction = f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX);
    delay.mul_f64(1.0 + fraction * jitter)
}

/// A transport error, without the URL's credentials.
fn describe(err: reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    format!("{kind}: {}", err.without_url())
}
