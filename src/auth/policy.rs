//! Who may do what (SPEC §1, §4). Deny by default: an action is allowed only for the roles
//! listed here. Scope (a therapist's own groups, clients and screenings) is checked separately
//! in `scope`, and an object outside scope answers 404, never 403.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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

/// Everything a handler may ask permission for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ManageUsers,
    ReadAudit,
    ReadClients,
    WriteClients,
    ReadClientRecord,
    ScheduleScreening,
    ReadScreenings,
    /// Screening assessments are clinical: never admin or intake.
    ReadAssessment,
    CompleteScreening,
    CancelScreening,
    ReadWaitlist,
    ReadGroups,
    WriteGroups,
    ReadContracts,
    WriteContracts,
    ReadMembers,
    AdmitMember,
    /// A supervisor's override of closed enrollment.
    OverrideEnrollment,
    RecordSignature,
    ManageExit,
    ReadSessions,
    ScheduleSessions,
    CancelSession,
    RecordAttendance,
    ReadNotes,
    WriteNotes,
    CosignNote,
    ExportReports,
    /// The staff directory (SPEC §4 v2): who can be chosen as interviewer, leader, author.
    ReadStaffDirectory,
    /// One's own agenda and dashboard (SPEC §7).
    ReadOwnDay,
    /// 42 CFR Part 2 consents (SPEC §8): admins read them, never record them.
    ReadConsents,
    WriteConsents,
    /// The accounting of disclosures and the documents released.
    ReadDisclosures,
    Disclose,
    /// Break-glass access: a therapist grants it to themself; supervisors review it.
    GrantEmergencyAccess,
    ReviewEmergencyAccess,
    /// Approving clinical accounts an administrator made (SPEC §1 "Separation of duties").
    ApproveAccounts,
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
        CosignNote => role == Supervisor,
        ExportReports => matches!(role, Admin | Supervisor),
        ReadStaffDirectory | ReadOwnDay => matches!(role, Admin | Supervisor | Therapist | Intake),
        ReadConsents => matches!(role, Admin | Supervisor | Intake | Therapist),
        WriteConsents | ReadDisclosures | Disclose => {
            matches!(role, Supervisor | Intake | Therapist)
        }
        GrantEmergencyAccess => role == Therapist,
        ReviewEmergencyAccess => role == Supervisor,
        ApproveAccounts => role == Supervisor,
    }
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
    fn role_names_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("root".parse::<Role>().is_err());
    }
}
