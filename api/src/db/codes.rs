//! The domain's states ([`crate::domain::states`]) in text columns: written as their text, read
//! back into the enum (an unknown text is a deserialization error naming it), on both backends
//! and through the two-backend connection.
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;

use super::MultiBackend;
use crate::domain::states::{CallStatus, CostStatus, JobStatus, LegStatus, Outcome, QualifyReason, TranscriptStatus};

macro_rules! text_code {
    ($($t:ty),+ $(,)?) => {$(
        impl ToSql<Text, Sqlite> for $t {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                out.set_value(self.as_str());
                Ok(IsNull::No)
            }
        }

        impl ToSql<Text, Pg> for $t {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <str as ToSql<Text, Pg>>::to_sql(self.as_str(), &mut out.reborrow())
            }
        }

        impl ToSql<Text, MultiBackend> for $t {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((Text, self));
                Ok(IsNull::No)
            }
        }

        impl FromSql<Text, Sqlite> for $t {
            fn from_sql(value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let text = <String as FromSql<Text, Sqlite>>::from_sql(value)?;
                <$t>::parse(&text).ok_or_else(|| format!("unknown {} {text:?}", stringify!($t)).into())
            }
        }

        impl FromSql<Text, Pg> for $t {
            fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let text = <String as FromSql<Text, Pg>>::from_sql(value)?;
                <$t>::parse(&text).ok_or_else(|| format!("unknown {} {text:?}", stringify!($t)).into())
            }
        }

        impl FromSql<Text, MultiBackend> for $t {
            fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                bytes.from_sql::<$t, Text>()
            }
        }
    )+};
}

text_code!(CallStatus, LegStatus, Outcome, CostStatus, TranscriptStatus, JobStatus, QualifyReason);
