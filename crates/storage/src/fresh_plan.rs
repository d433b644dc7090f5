//! Statements PostgreSQL must plan with their values every time.
//!
//! diesel keeps statements prepared, and after five runs PostgreSQL may switch a prepared statement to a generic
//! plan, chosen without the bound values and kept as long as the connection lives. For a lookup by an array of
//! ids (`id = ANY($1)`) made while the table was nearly empty, that plan is a sequential scan comparing every
//! row with every id: the duplicate check of a 2,000-event set took 3 s on a table of 40,000 events that the
//! index answers in 20 ms, and it grew with the table. Planning every statement with its values instead
//! (`plan_cache_mode = force_custom_plan`) fixed that but cost the batch route a quarter of its throughput, so
//! only these lookups are kept out of the statement cache: the lookups by an array of ids that ingest runs on
//! the tables that grow with it (the duplicate check in events, the set's sessions). The candidate keys' statuses
//! are left prepared: that table grows by one row an invitation, and planning it every time measured slower
//! (single-event ingest 1,177 and 1,381 requests/s against 1,535 and 1,608 prepared, alternating runs).

use diesel::dsl::sql;
use diesel::expression::SqlLiteral;
use diesel::sql_types::Bool;

/// A condition that is always true and that diesel never prepares for reuse: added to a query's filter, it
/// makes PostgreSQL plan the query with the values bound this time. (SQLite expands an array of ids into a
/// list of placeholders, which diesel never reuses either.)
pub(crate) fn planned_with_values() -> SqlLiteral<Bool> {
    sql::<Bool>("TRUE")
}
