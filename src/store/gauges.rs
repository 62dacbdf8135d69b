//! What the metrics read from the database when they are scraped: how
//! full the outboxes are and how long the oldest handoff has waited.

use super::mail::{Kind, Value};
use super::{Store, StoreError};

impl Store {
    /// When the oldest handoff still waiting to be delivered was made
    /// (milliseconds), if one is.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn oldest_pending_handoff(&self) -> Result<Option<i64>, StoreError> {
        let rows = self
            .query(
                "SELECT MIN(created_at) FROM handoffs WHERE status = 'pending'",
                Vec::new(),
                &[Kind::Int],
            )
            .await?;
        Ok(super::mail::scalar(rows).and_then(|v| match v {
            Value::Int(i) => i,
            _ => None,
        }))
    }

    /// How many outgoing mails there are in each status.
    ///
    /// # Errors
    /// [`StoreError`] when the database fails.
    pub async fn mail_outbox_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = self
            .query(
                "SELECT status, COUNT(*) FROM mails WHERE direction = 'out' GROUP BY status",
                Vec::new(),
                &[Kind::Text, Kind::Int],
            )
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| match row.as_slice() {
                [Value::Text(Some(status)), Value::Int(Some(n))] => Some((status.clone(), *n)),
                _ => None,
            })
            .collect())
    }
}
