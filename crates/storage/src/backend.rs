//! The one escape hatch for SQL that `MultiConnection` cannot express (`ON CONFLICT`, `FOR UPDATE`): the same
//! diesel DSL, run on each concrete connection.

/// Runs `$body` with `$connection` bound to the inner connection of either backend.
macro_rules! per_backend {
    ($any:expr, |$connection:ident| $body:expr) => {
        match $any {
            $crate::connection::AnyConnection::Postgres($connection) => $body,
            $crate::connection::AnyConnection::Sqlite($connection) => $body,
        }
    };
}

pub(crate) use per_backend;
