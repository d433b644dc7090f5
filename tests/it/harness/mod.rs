//! The shared test harness: a fresh database per test on either backend, the real app over it, fixtures.

mod app;
mod db;

pub(crate) use app::{same_origin, TestApp, TestOrg, HOST, PASSWORD};
pub(crate) use db::TestBackend;

/// Declares, for an `async fn name(backend: TestBackend)`, one test per backend: `name::sqlite` and
/// `name::postgres`. Every behavioural test runs on both, so the backends cannot drift apart unnoticed.
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[actix_web::test]
                async fn sqlite() {
                    super::$name($crate::harness::TestBackend::Sqlite).await
                }

                #[actix_web::test]
                async fn postgres() {
                    super::$name($crate::harness::TestBackend::Postgres).await
                }
            }
        )+
    };
}

pub(crate) use on_both_backends;
