//! Work a write hands to the end of its transaction: merged with the same kind of work of the
//! other writes committed with it, and written once, last thing before the commit.
//!
//! The SQLite writer commits many writes in one transaction ([`super::writer`]); writes that add
//! to the same rows (every settlement of an hour adds to that hour's rollup rows) then add once
//! for the whole batch instead of once each. A write that fails takes its work with it. Anywhere
//! else (PostgreSQL, commands) the work is written at the end of the write that made it.
use std::any::{Any, TypeId};

use super::DbConnection;
use crate::error::Error;

/// One kind of work; [`Batch`] keeps at most one value of each type, merging the others into it.
pub trait BatchWork: Any + Send {
    /// Adds `other` (a value of the same type) to this one.
    fn merge(&mut self, other: Self)
    where
        Self: Sized;
    /// Writes it.
    fn write(self, conn: &mut DbConnection) -> Result<(), Error>
    where
        Self: Sized;
}

/// What the batch keeps of a [`BatchWork`]: its value, and how to merge and write it.
struct Entry {
    work: Box<dyn Any + Send>,
    merge: fn(&mut Box<dyn Any + Send>, Box<dyn Any + Send>),
    write: fn(Box<dyn Any + Send>, &mut DbConnection) -> Result<(), Error>,
}

fn merge<W: BatchWork>(into: &mut Box<dyn Any + Send>, other: Box<dyn Any + Send>) {
    if let (Some(into), Ok(other)) = (into.downcast_mut::<W>(), other.downcast::<W>()) {
        into.merge(*other);
    }
}

fn write<W: BatchWork>(work: Box<dyn Any + Send>, conn: &mut DbConnection) -> Result<(), Error> {
    match work.downcast::<W>() {
        Ok(w) => w.write(conn),
        Err(_) => Err(Error::internal(anyhow::anyhow!("batch work of an unexpected type"))),
    }
}

/// The work of one write, or of a whole batch of them.
#[derive(Default)]
pub struct Batch {
    entries: Vec<(TypeId, Entry)>,
}

impl Batch {
    /// Adds `work`, merged with what this batch holds of its kind.
    pub fn add<W: BatchWork>(&mut self, work: W) {
        let boxed: Box<dyn Any + Send> = Box::new(work);
        self.push(TypeId::of::<W>(), Entry { work: boxed, merge: merge::<W>, write: write::<W> });
    }

    fn push(&mut self, id: TypeId, entry: Entry) {
        match self.entries.iter_mut().find(|(t, _)| *t == id) {
            Some((_, held)) => (held.merge)(&mut held.work, entry.work),
            None => self.entries.push((id, entry)),
        }
    }

    /// Takes in another write's work.
    pub fn absorb(&mut self, other: Batch) {
        for (id, entry) in other.entries {
            self.push(id, entry);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Writes every kind of work, in the order the kinds were first added.
    pub fn write(self, conn: &mut DbConnection) -> Result<(), Error> {
        for (_, entry) in self.entries {
            (entry.write)(entry.work, conn)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq)]
    struct Adds(Vec<i32>);

    impl BatchWork for Adds {
        fn merge(&mut self, other: Self) {
            self.0.extend(other.0);
        }
        fn write(self, _conn: &mut DbConnection) -> Result<(), Error> {
            Ok(())
        }
    }

    #[test]
    fn work_of_one_kind_is_merged() {
        let mut a = Batch::default();
        a.add(Adds(vec![1]));
        let mut b = Batch::default();
        b.add(Adds(vec![2, 3]));
        a.absorb(b);
        a.add(Adds(vec![4]));
        assert_eq!(a.entries.len(), 1);
        let held = a.entries.pop().and_then(|(_, e)| e.work.downcast::<Adds>().ok()).expect("adds");
        assert_eq!(*held, Adds(vec![1, 2, 3, 4]));
    }
}
