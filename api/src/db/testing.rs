//! For the statement-level tests of `db`: a small table, and a record of the statements a
//! connection prepares.
use std::sync::{Arc, Mutex};

use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::Connection;

diesel::table! {
    t (id) {
        id -> BigInt,
        v -> Integer,
        note -> Nullable<Text>,
    }
}

/// The SQL of every statement the connection newly put in its prepared-statement cache.
pub type Prepared = Arc<Mutex<Vec<String>>>;

struct Record(Prepared);

impl Instrumentation for Record {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::CacheQuery { sql, .. } = event {
            self.0.lock().expect("lock").push(sql.to_string());
        }
    }
}

/// Creates table `t` on `c`, runs `setup` (more SQL, say rows), then records what `c` prepares.
pub fn with_table<C: Connection + SimpleConnection>(mut c: C, setup: &str) -> (C, Prepared) {
    c.batch_execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL, note TEXT)").expect("table");
    c.batch_execute(setup).expect("setup");
    let prepared = Prepared::default();
    c.set_instrumentation(Record(prepared.clone()));
    (c, prepared)
}
