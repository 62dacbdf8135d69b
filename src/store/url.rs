//! Where the store is: an SQLite file or a PostgreSQL server, parsed once
//! from the configuration's `database_url`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// A database madoguchi can use. Shown (`Display`, `Debug`) without its
/// password.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://FILE`: the file, created if missing.
    Sqlite(PathBuf),
    /// `postgres://...` or `postgresql://...`, as given.
    Postgres(String),
}

/// The text is not a database URL madoguchi can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidDatabaseUrl(&'static str);

impl FromStr for DatabaseUrl {
    type Err = InvalidDatabaseUrl;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.trim_start_matches("//");
            let path = path.split('?').next().unwrap_or(path);
            if path.is_empty() || path.contains(":memory:") {
                // The readers open the file again: an in-memory database
                // would be a different one for each.
                return Err(InvalidDatabaseUrl(
                    "must name a file (sqlite://FILE): an in-memory SQLite database cannot be shared by the service's connections",
                ));
            }
            Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres(url.to_owned()))
        } else {
            Err(InvalidDatabaseUrl("must start with sqlite: or postgres://"))
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => f.write_str(&without_password(url)),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The URL as it may be shown: without a password.
fn without_password(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_read_and_shown_without_their_password() {
        let parse = |s: &str| s.parse::<DatabaseUrl>();
        assert_eq!(
            parse("sqlite://madoguchi.db"),
            Ok(DatabaseUrl::Sqlite("madoguchi.db".into()))
        );
        assert_eq!(
            parse("sqlite:///tmp/x.db?mode=rwc"),
            Ok(DatabaseUrl::Sqlite("/tmp/x.db".into()))
        );
        assert!(parse("sqlite://:memory:").is_err());
        assert!(parse("sqlite://").is_err());
        assert!(parse("mysql://localhost/x").is_err());
        let postgres = parse("postgres://app:hunter2@db:5432/support").expect("valid");
        assert_eq!(postgres.to_string(), "postgres://app:***@db:5432/support");
        assert!(!format!("{postgres:?}").contains("hunter2"));
    }
}
