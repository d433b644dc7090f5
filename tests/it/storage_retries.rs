//! PostgreSQL breaks a deadlock by aborting one of the transactions that wait for each other. A write that lost
//! runs again and commits, so no caller sees the abort (issue 17: such aborts were answered 500). SQLite has one
//! writer and cannot deadlock, so this is PostgreSQL's alone.

use std::sync::{Arc, Barrier};
use std::thread;

use diesel::connection::SimpleConnection;
use traceline_storage::{AnyConnection, StorageError};

use crate::harness::{TestApp, TestBackend};

#[test]
fn a_write_aborted_to_break_a_deadlock_runs_again_and_commits() {
    let app = TestApp::new(TestBackend::Postgres);
    let orgs = [app.org("Acme").id, app.org("Globex").id];
    let barrier = Arc::new(Barrier::new(2));
    let writers: Vec<_> = (0..2)
        .map(|first| {
            let database = app.state.database.clone();
            let barrier = Arc::clone(&barrier);
            // The two writers lock the same two rows in opposite orders: a deadlock.
            let order = [orgs[first].clone(), orgs[1 - first].clone()];
            thread::spawn(move || {
                let mut runs = 0;
                database.write(move |connection| {
                    runs += 1;
                    lock(connection, &order[0])?;
                    if runs == 1 {
                        // Both hold their first row before either asks for its second.
                        barrier.wait();
                    }
                    lock(connection, &order[1])?;
                    Ok(runs)
                })
            })
        })
        .collect();
    let mut runs: Vec<u32> = writers
        .into_iter()
        .map(|writer| writer.join().unwrap().expect("the write commits"))
        .collect();
    runs.sort_unstable();
    assert_eq!(runs, [1, 2], "one writer ran once, the deadlock's victim twice");
}

fn lock(connection: &mut AnyConnection, org_id: &str) -> Result<(), StorageError> {
    // The ids are UUIDs the test made, so they can be written into the statement.
    Ok(connection
        .batch_execute(&format!("SELECT id FROM orgs WHERE id = '{org_id}' FOR UPDATE"))?)
}
