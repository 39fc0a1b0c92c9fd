//! Scratch PostgreSQL databases for test suites and benchmarks: a database of its own on the
//! server an administrative URL names, dropped when the value drops.

use diesel::{Connection, PgConnection, RunQueryDsl};

use crate::StoreError;

/// A database created on the server of `admin_url` (a URL naming an existing database the user
/// may create databases from), dropped `WITH (FORCE)` (closing every connection still open to
/// it) when this value drops, also while a failed assertion unwinds.
#[derive(Debug)]
pub struct ScratchDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl ScratchDatabase {
    /// Creates `{prefix}_{random}` (`prefix`: lowercase ASCII letters, digits and `_`).
    ///
    /// Both URLs keep the parameters of `admin_url`, and connect without TLS unless it names an
    /// `sslmode`: these databases live on a local server, where TLS only costs time, and
    /// OpenSSL's clean-up at exit (an `atexit` handler) races the threads of the servers a test
    /// binary leaves running (it crashed a run of the api tests with SIGSEGV in
    /// `OPENSSL_cleanup`).
    ///
    /// # Errors
    /// [`StoreError::InvalidUrl`] for a bad prefix or a URL without a database,
    /// [`StoreError::Pool`] when the server does not connect, and the server's refusal to
    /// create the database.
    pub fn create(admin_url: &str, prefix: &str) -> Result<Self, StoreError> {
        let prefix_ok = !prefix.is_empty()
            && prefix
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !prefix_ok {
            return Err(StoreError::InvalidUrl {
                reason: "a scratch database's prefix is lowercase letters, digits and _",
            });
        }
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let (admin_url, url) = urls(admin_url, &name)?;
        let mut admin = PgConnection::establish(&admin_url).map_err(|e| StoreError::Pool {
            reason: format!("cannot connect to the PostgreSQL server: {e}"),
        })?;
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin)?;
        Ok(Self {
            admin_url,
            name,
            url,
        })
    }

    /// The URL of the scratch database.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// The administrative URL and the scratch database's, both without TLS unless `admin_url`
/// names an `sslmode`.
fn urls(admin_url: &str, name: &str) -> Result<(String, String), StoreError> {
    let admin_url = if admin_url.contains("sslmode=") {
        admin_url.to_owned()
    } else {
        let joint = if admin_url.contains('?') { '&' } else { '?' };
        format!("{admin_url}{joint}sslmode=disable")
    };
    let (base, params) = admin_url.split_once('?').unwrap_or((&admin_url, ""));
    let no_database = StoreError::InvalidUrl {
        reason: "the administrative URL names no database",
    };
    let (scheme, rest) = base.split_once("://").ok_or(no_database.clone())?;
    let (server, _) = rest
        .rsplit_once('/')
        .filter(|(_, database)| !database.is_empty())
        .ok_or(no_database)?;
    let url = format!("{scheme}://{server}/{name}?{params}");
    Ok((admin_url, url))
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let dropped = PgConnection::establish(&self.admin_url)
            .map_err(|e| e.to_string())
            .and_then(|mut admin| {
                diesel::sql_query(format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ))
                .execute(&mut admin)
                .map_err(|e| e.to_string())
            });
        if let Err(error) = dropped {
            tracing::warn!(database = %self.name, %error, "could not drop a scratch database");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_the_server_and_parameters_and_default_to_no_tls() {
        let pair = |admin: &str| urls(admin, "t_1").map_err(|e| e.to_string());
        assert_eq!(
            pair("postgres://u@h:5432/test").unwrap(),
            (
                "postgres://u@h:5432/test?sslmode=disable".to_owned(),
                "postgres://u@h:5432/t_1?sslmode=disable".to_owned()
            )
        );
        assert_eq!(
            pair("postgres://u@h/test?sslmode=require&application_name=x").unwrap(),
            (
                "postgres://u@h/test?sslmode=require&application_name=x".to_owned(),
                "postgres://u@h/t_1?sslmode=require&application_name=x".to_owned()
            )
        );
        assert_eq!(
            pair("postgres://u@h/test?connect_timeout=3").unwrap().1,
            "postgres://u@h/t_1?connect_timeout=3&sslmode=disable"
        );
        for bad in ["postgres://u@h:5432", "postgres://u@h/", "test"] {
            assert!(pair(bad).is_err(), "{bad}");
        }
    }
}
