//! What the integration tests share: fresh databases of both kinds.

#![allow(dead_code)]

use madoguchi::store::{Durability, Store};

/// The database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A fresh, empty database: a SQLite file in a temporary folder, or a new
/// schema of the PostgreSQL database at `MADOGUCHI_TEST_DATABASE_URL`.
/// `None` (with a visible note) when PostgreSQL is asked for and the
/// variable is unset.
pub struct FreshDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

pub async fn fresh_db(db: Db) -> Option<FreshDb> {
    match db {
        Db::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}", dir.path().join("madoguchi.db").display());
            Some(FreshDb {
                url,
                _dir: Some(dir),
            })
        }
        Db::Postgres => {
            let Ok(base) = std::env::var("MADOGUCHI_TEST_DATABASE_URL") else {
                eprintln!(
                    "SKIPPED (PostgreSQL): set MADOGUCHI_TEST_DATABASE_URL to run this test on PostgreSQL"
                );
                return None;
            };
            let schema = format!("t{}", random_hex(8));
            let pool = sqlx::PgPool::connect(&base)
                .await
                .expect("PostgreSQL reachable");
            // The schema name is ours: `t` and hex digits.
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(&pool)
                .await
                .expect("create schema");
            pool.close().await;
            let separator = if base.contains('?') { '&' } else { '?' };
            let url = format!("{base}{separator}options=-c%20search_path%3D{schema}");
            Some(FreshDb { url, _dir: None })
        }
    }
}

pub async fn store(db: Db) -> Option<(Store, FreshDb)> {
    let fresh = fresh_db(db).await?;
    let store = Store::connect(&fresh.url, Durability::Normal)
        .await
        .expect("connects and migrates");
    Some((store, fresh))
}

pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).expect("randomness");
    hex::encode(buffer)
}

/// Runs an async test body once per database: `both_databases!(name, body_fn)`.
#[macro_export]
macro_rules! both_databases {
    ($($name:ident => $body:ident;)*) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$body($crate::common::Db::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$body($crate::common::Db::Postgres).await;
                }
            )*
        }
    };
}
