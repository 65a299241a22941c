//! Who may do what (SPEC §1, §4). Deny by default: an action is allowed only for the roles
//! listed here. Scope (a therapist's own groups, clients and screenings) is checked separately
//! in `scope`, and an object outside scope answers 404, never 403.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::extractor::Staff;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Supervisor,
    Therapist,
    Intake,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Supervisor, Role::Therapist, Role::Intake];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Therapist => "therapist",
            Role::Intake => "intake",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Clinicians may lead groups and interview clients.
    pub fn is_clinician(self) -> bool {
        matches!(self, Role::Therapist | Role::Supervisor)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Role::parse(s).ok_or(())
    }
}

/// Declares [`Action`], its wire names (the `x-permission` of each OpenAPI operation) and one
/// zero-sized marker type per action in [`act`], for [`Permit`]s.
macro_rules! actions {
    ($( $(#[$doc:meta])* $name:ident => $wire:literal, )*) => {
        /// Everything a caller may ask permission for.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action {
            $( $(#[$doc])* $name, )*
        }

        impl Action {
            pub const ALL: &'static [Action] = &[$( Action::$name, )*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $( Action::$name => $wire, )*
                }
            }

            pub fn parse(s: &str) -> Option<Action> {
                Action::ALL.iter().copied().find(|a| a.as_str() == s)
            }
        }

        /// One type per [`Action`], naming it in a [`Permit`]'s type.
        pub mod act {
            $(
                #[derive(Debug, Clone, Copy)]
                pub struct $name;
                impl super::Act for $name {
                    const ACTION: super::Action = super::Action::$name;
                }
            )*
        }
    };
}

actions! {
    ManageUsers => "manage_users",
    ReadAudit => "read_audit",
    ReadClients => "read_clients",
    WriteClients => "write_clients",
    ReadClientRecord => "read_client_record",
    ScheduleScreening => "schedule_screening",
    ReadScreenings => "read_screenings",
    /// Screening assessments are clinical: never admin or intake.
    ReadAssessment => "read_assessment",
    CompleteScreening => "complete_screening",
    CancelScreening => "cancel_screening",
    ReadWaitlist => "read_waitlist",
    ReadGroups => "read_groups",
    /// A group's composition warnings (SPEC §2): clinical roles and admins, never intake.
    ReadCompositionWarnings => "read_composition_warnings",
    WriteGroups => "write_groups",
    ReadContracts => "read_contracts",
    WriteContracts => "write_contracts",
    ReadMembers => "read_members",
    AdmitMember => "admit_member",
    /// A supervisor's override of closed enrollment.
    OverrideEnrollment => "override_enrollment",
    RecordSignature => "record_signature",
    ManageExit => "manage_exit",
    ReadSessions => "read_sessions",
    ScheduleSessions => "schedule_sessions",
    CancelSession => "cancel_session",
    RecordAttendance => "record_attendance",
    ReadNotes => "read_notes",
    WriteNotes => "write_notes",
    CosignNote => "cosign_note",
    /// Notes voided as entered in error stay readable by supervisors only (v2).
    ReadVoidedNotes => "read_voided_notes",
    /// Voiding a note entered in error that someone else wrote (v2): supervisors.
    VoidAnyNote => "void_any_note",
    ExportReports => "export_reports",
    /// One's own account: `GET /me`, changing one's password.
    UseOwnAccount => "use_own_account",
    /// The staff directory (SPEC §4 v2): who can be chosen as interviewer, leader, author.
    ReadStaffDirectory => "read_staff_directory",
    /// One's own agenda and dashboard (SPEC §7).
    ReadOwnDay => "read_own_day",
    /// Intake coordinates every screening: their agenda lists all scheduled ones (SPEC §7).
    CoordinateIntake => "coordinate_intake",
    /// 42 CFR Part 2 consents (SPEC §8): admins read them, never record them.
    ReadConsents => "read_consents",
    WriteConsents => "write_consents",
    /// The accounting of disclosures and the documents released.
    ReadDisclosures => "read_disclosures",
    Disclose => "disclose",
    /// Break-glass access: a therapist grants it to themself; supervisors review it.
    GrantEmergencyAccess => "grant_emergency_access",
    ReviewEmergencyAccess => "review_emergency_access",
    /// Approving clinical accounts an administrator made (SPEC §1 "Separation of duties").
    ApproveAccounts => "approve_accounts",
}

/// The role table. Deny by default: anything not listed is refused.
pub fn allows(role: Role, action: Action) -> bool {
    use Action::*;
    use Role::*;
    match action {
        ManageUsers | ReadAudit => role == Admin,
        ReadClients => matches!(role, Admin | Supervisor | Therapist | Intake),
        WriteClients => matches!(role, Supervisor | Intake),
        ReadClientRecord => matches!(role, Supervisor | Therapist),
        ScheduleScreening => matches!(role, Supervisor | Intake | Therapist),
        ReadScreenings => matches!(role, Admin | Supervisor | Therapist | Intake),
        ReadAssessment => matches!(role, Supervisor | Therapist),
        CompleteScreening => matches!(role, Supervisor | Therapist),
        CancelScreening => matches!(role, Supervisor | Intake | Therapist),
        ReadWaitlist => matches!(role, Supervisor | Intake | Therapist),
        ReadGroups => matches!(role, Admin | Supervisor | Therapist | Intake),
        ReadCompositionWarnings => matches!(role, Admin | Supervisor | Therapist),
        WriteGroups => matches!(role, Admin | Supervisor),
        ReadContracts => matches!(role, Admin | Supervisor | Therapist | Intake),
        WriteContracts => matches!(role, Admin | Supervisor),
        ReadMembers => matches!(role, Admin | Supervisor | Therapist | Intake),
        AdmitMember => matches!(role, Supervisor | Therapist),
        OverrideEnrollment => role == Supervisor,
        RecordSignature => matches!(role, Supervisor | Intake | Therapist),
        ManageExit => matches!(role, Supervisor | Therapist),
        ReadSessions | ScheduleSessions | CancelSession => {
            matches!(role, Admin | Supervisor | Therapist | Intake)
        }
        RecordAttendance => matches!(role, Supervisor | Intake | Therapist),
        ReadNotes | WriteNotes => matches!(role, Supervisor | Therapist),
        CosignNote | ReadVoidedNotes | VoidAnyNote => role == Supervisor,
        ExportReports => matches!(role, Admin | Supervisor),
        UseOwnAccount | ReadStaffDirectory | ReadOwnDay => {
            matches!(role, Admin | Supervisor | Therapist | Intake)
        }
        CoordinateIntake => role == Intake,
        ReadConsents => matches!(role, Admin | Supervisor | Intake | Therapist),
        WriteConsents | ReadDisclosures | Disclose => {
            matches!(role, Supervisor | Intake | Therapist)
        }
        GrantEmergencyAccess => role == Therapist,
        ReviewEmergencyAccess => role == Supervisor,
        ApproveAccounts => role == Supervisor,
    }
}

/// What an operation requires of its caller, declared beside the operation in the one route
/// registry (`crate::routes`) and enforced before anything of the request is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// No access token: the operation exchanges credentials or a one-time token.
    Public,
    /// An authenticated staff member whose role the table allows `Action`.
    Requires(Action),
}

/// An action named by a type: `Permit<act::ReadNotes>`.
pub trait Act {
    const ACTION: Action;
}

/// Proof that the policy allowed this staff member the action `A`. Its fields are private to
/// this module, so [`permit`] is the only way to make one: code that touches protected data
/// asks for a `&Permit<…>` and thereby cannot run for a caller the table refuses.
pub struct Permit<A: Act> {
    staff: Staff,
    _act: PhantomData<fn() -> A>,
}

impl<A: Act> Clone for Permit<A> {
    fn clone(&self) -> Self {
        Permit {
            staff: self.staff.clone(),
            _act: PhantomData,
        }
    }
}

impl<A: Act> Permit<A> {
    pub fn staff(&self) -> &Staff {
        &self.staff
    }
}

impl<A: Act> std::ops::Deref for Permit<A> {
    type Target = Staff;
    fn deref(&self) -> &Staff {
        &self.staff
    }
}

impl<A: Act> fmt::Debug for Permit<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Permit<{}>({})", A::ACTION.as_str(), self.staff.id)
    }
}

/// The one place a [`Permit`] is made: `None` when the role table refuses `A` to this staff
/// member.
pub fn permit<A: Act>(staff: &Staff) -> Option<Permit<A>> {
    allows(staff.role, A::ACTION).then(|| Permit {
        staff: staff.clone(),
        _act: PhantomData,
    })
}

/// True when the role sees only its own scope (therapists); others see the whole practice.
pub fn is_scoped(role: Role) -> bool {
    role == Role::Therapist
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_never_reads_clinical_content() {
        for a in [
            Action::ReadAssessment,
            Action::ReadNotes,
            Action::WriteNotes,
            Action::ReadClientRecord,
        ] {
            assert!(!allows(Role::Admin, a), "{a:?}");
            assert!(!allows(Role::Intake, a), "{a:?}");
        }
    }

    #[test]
    fn only_admin_manages_users_and_reads_audit() {
        for r in Role::ALL {
            assert_eq!(allows(r, Action::ManageUsers), r == Role::Admin);
            assert_eq!(allows(r, Action::ReadAudit), r == Role::Admin);
        }
    }

    #[test]
    fn admin_reads_consents_but_never_discloses() {
        assert!(allows(Role::Admin, Action::ReadConsents));
        for a in [
            Action::WriteConsents,
            Action::Disclose,
            Action::ReadDisclosures,
        ] {
            assert!(!allows(Role::Admin, a), "{a:?}");
            assert!(allows(Role::Intake, a), "{a:?}");
        }
        for r in Role::ALL {
            assert_eq!(
                allows(r, Action::GrantEmergencyAccess),
                r == Role::Therapist
            );
            assert_eq!(
                allows(r, Action::ReviewEmergencyAccess),
                r == Role::Supervisor
            );
        }
    }

    #[test]
    fn action_names_round_trip_and_are_unique() {
        let mut names: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(*a));
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Action::ALL.len());
    }

    #[test]
    fn role_names_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("root".parse::<Role>().is_err());
    }
}
