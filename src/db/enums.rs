//! The one mapping of the service's enums to their `text` columns.
//!
//! Every status and kind column stays `text` with its CHECK constraint (no SQL type of its
//! own, so no data migration); the Rust side is typed. Each enum derives diesel's
//! `AsExpression` and `FromSqlRow` (`sql_type = Text`) where it is defined and is listed in
//! [`text_enums!`] below, which implements `ToSql<Text, Pg>` from its `as_str` and
//! `FromSql<Text, Pg>` from its `parse`. A value the enum does not know is a deserialization
//! error (the request answers 500 and the cause is logged), never a default.

use std::fmt;
use std::io::Write;

use diesel::deserialize::{self, FromSql};
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;

/// A column held a value its enum does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    /// The enum's full path, e.g. `groupwork::domain::membership::MembershipStatus`.
    pub enum_name: &'static str,
    pub value: String,
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} value {:?} in the database",
            self.enum_name, self.value
        )
    }
}

impl std::error::Error for UnknownValue {}

/// Reads a text value into an enum through its `parse`; an unknown value is an error.
pub fn from_text<T>(
    value: PgValue<'_>,
    enum_name: &'static str,
    parse: fn(&str) -> Option<T>,
) -> deserialize::Result<T> {
    let raw = std::str::from_utf8(value.as_bytes())?;
    parse(raw).ok_or_else(|| {
        Box::new(UnknownValue {
            enum_name,
            value: raw.to_owned(),
        }) as Box<dyn std::error::Error + Send + Sync>
    })
}

/// Writes an enum's `as_str` as a text value.
pub fn to_text(s: &'static str, out: &mut Output<'_, '_, Pg>) -> serialize::Result {
    out.write_all(s.as_bytes())?;
    Ok(IsNull::No)
}

/// Implements `ToSql<Text, Pg>` and `FromSql<Text, Pg>` for enums with `fn as_str(self) ->
/// &'static str` and `fn parse(&str) -> Option<Self>`.
macro_rules! text_enums {
    ($($ty:ty),* $(,)?) => {$(
        impl ToSql<Text, Pg> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                to_text(self.as_str(), out)
            }
        }

        impl FromSql<Text, Pg> for $ty {
            fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
                from_text(value, std::any::type_name::<$ty>(), <$ty>::parse)
            }
        }
    )*};
}

use crate::auth::policy::Role;
use crate::domain::attendance::AttendanceStatus;
use crate::domain::client::{Gender, ReferralSource};
use crate::domain::consent::{InformationKind, RecipientKind};
use crate::domain::emergency_access::ReviewOutcome;
use crate::domain::group::{GroupStatus, MeetingDay, TimeZone};
use crate::domain::membership::{ExitReason, MembershipStatus};
use crate::domain::note::NoteStatus;
use crate::domain::screening::{Outcome as ScreeningOutcome, ScreeningStatus};
use crate::notes::index::{IndexStatus, NoteKind as IndexNoteKind};
use crate::notes::model::Kind as NoteKind;
use crate::sessions::documentation::GroupNoteState;
use crate::sessions::model::SessionStatus;
use crate::users::model::Approval;

text_enums!(
    AttendanceStatus,
    Approval,
    ExitReason,
    Gender,
    GroupNoteState,
    GroupStatus,
    IndexNoteKind,
    IndexStatus,
    InformationKind,
    MeetingDay,
    MembershipStatus,
    NoteKind,
    NoteStatus,
    RecipientKind,
    ReferralSource,
    ReviewOutcome,
    Role,
    ScreeningOutcome,
    ScreeningStatus,
    SessionStatus,
    TimeZone,
);

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant: `parse` reads back what `as_str` writes, and where the enum is also
    /// JSON (API bodies, audit details), serde writes the same text.
    macro_rules! round_trip {
        ($ty:ty: $($v:expr),+ $(,)?) => {
            for v in [$($v),+] {
                assert_eq!(<$ty>::parse(v.as_str()), Some(v), "{v:?}");
                assert_eq!(<$ty>::parse(&v.as_str().to_uppercase()), None, "{v:?}");
            }
        };
        (json $ty:ty: $($v:expr),+ $(,)?) => {
            round_trip!($ty: $($v),+);
            for v in [$($v),+] {
                assert_eq!(serde_json::to_value(v).unwrap(), v.as_str(), "{v:?}");
            }
        };
    }

    #[test]
    fn every_variant_round_trips_and_json_agrees() {
        use AttendanceStatus as A;
        use MembershipStatus as M;
        use NoteStatus as N;
        use ScreeningStatus as S;
        round_trip!(json A:
            A::Present, A::Late, A::LeftEarly, A::ExcusedAbsence, A::UnexcusedAbsence);
        round_trip!(json Approval: Approval::Approved, Approval::Pending);
        round_trip!(json GroupNoteState:
            GroupNoteState::Draft, GroupNoteState::Signed, GroupNoteState::Cosigned);
        round_trip!(json GroupStatus:
            GroupStatus::Forming,
            GroupStatus::Active,
            GroupStatus::Completed,
            GroupStatus::Cancelled);
        round_trip!(json IndexNoteKind: IndexNoteKind::Group, IndexNoteKind::Member);
        round_trip!(json IndexStatus:
            IndexStatus::Draft, IndexStatus::Signed, IndexStatus::Cosigned, IndexStatus::Voided);
        round_trip!(json M: M::Pending, M::Active, M::Exiting, M::Exited);
        round_trip!(NoteKind: NoteKind::Group, NoteKind::Member);
        round_trip!(json N: N::Draft, N::Signed, N::Cosigned, N::Voided);
        round_trip!(json ReviewOutcome: ReviewOutcome::Appropriate, ReviewOutcome::Inappropriate);
        round_trip!(json ScreeningOutcome:
            ScreeningOutcome::Accepted,
            ScreeningOutcome::Deferred,
            ScreeningOutcome::Declined,
            ScreeningOutcome::ReferredElsewhere);
        round_trip!(json S: S::Scheduled, S::Completed, S::Cancelled, S::NoShow);
        round_trip!(json SessionStatus:
            SessionStatus::Scheduled, SessionStatus::Held, SessionStatus::Cancelled);
        for v in ExitReason::ALL {
            round_trip!(json ExitReason: v);
        }
        for v in Gender::ALL {
            round_trip!(json Gender: v);
        }
        for v in InformationKind::ALL {
            round_trip!(json InformationKind: v);
        }
        for v in MeetingDay::ALL {
            round_trip!(json MeetingDay: v);
        }
        for v in RecipientKind::ALL {
            round_trip!(json RecipientKind: v);
        }
        for v in ReferralSource::ALL {
            round_trip!(json ReferralSource: v);
        }
        for v in Role::ALL {
            round_trip!(json Role: v);
        }
    }

    #[test]
    fn an_unknown_value_says_which_enum_and_value() {
        let e = UnknownValue {
            enum_name: "MembershipStatus",
            value: "suspended".into(),
        };
        assert_eq!(
            e.to_string(),
            "unknown MembershipStatus value \"suspended\" in the database"
        );
    }
}
