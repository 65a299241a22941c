//! `GET/POST /clients`, `GET/PATCH /clients/{id}`.
//!
//! One file per action (or small group of actions); the handlers are re-exported here, where
//! the route lists name them.

mod create;
mod read;
mod update;

pub use create::*;
pub use read::*;
pub use update::*;

use chrono::NaiveDate;
use diesel::prelude::*;

use super::model::{self};
use crate::domain::client::{check_birth_date, parse_phone, Gender, ReferralSource};
use crate::domain::email::parse_email;
use crate::domain::text::{optional_line, required_line};
use crate::error::{AppResult, Validations};
use crate::schema::clients;

const NAME_MAX: usize = 100;
const Q_MAX: usize = 200;

/// Validated values of every field, as stored.
#[derive(Clone)]
struct Fields {
    first_name: String,
    last_name: String,
    preferred_name: Option<String>,
    date_of_birth: NaiveDate,
    phone: Option<String>,
    email: Option<String>,
    referral_source: ReferralSource,
    mandated: bool,
    gender: Option<Gender>,
}

impl Fields {
    fn validate(self) -> AppResult<Fields> {
        let mut v = Validations::new();
        let first_name = required_line(&self.first_name, NAME_MAX)
            .map_err(|m| v.add("first_name", m))
            .unwrap_or_default();
        let last_name = required_line(&self.last_name, NAME_MAX)
            .map_err(|m| v.add("last_name", m))
            .unwrap_or_default();
        let preferred_name = optional_line(self.preferred_name.as_deref(), NAME_MAX)
            .map_err(|m| v.add("preferred_name", m))
            .unwrap_or_default();
        if let Err(m) = check_birth_date(self.date_of_birth) {
            v.add("date_of_birth", m);
        }
        let phone = match self
            .phone
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            None => None,
            Some(p) => parse_phone(p).map_err(|m| v.add("phone", m)).ok(),
        };
        let email = match self
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            None => None,
            Some(e) => parse_email(e).map_err(|m| v.add("email", m)).ok(),
        };
        v.finish()?;
        Ok(Fields {
            first_name,
            last_name,
            preferred_name,
            phone,
            email,
            ..self
        })
    }

    /// The columns stored, with the search key derived from the names.
    fn values(&self) -> ClientValues<'_> {
        ClientValues {
            first_name: &self.first_name,
            last_name: &self.last_name,
            preferred_name: self.preferred_name.as_deref(),
            date_of_birth: self.date_of_birth,
            phone: self.phone.as_deref(),
            email: self.email.as_deref(),
            referral_source: self.referral_source,
            mandated: self.mandated,
            gender: self.gender,
            search_text: model::search_text(
                &self.first_name,
                &self.last_name,
                self.preferred_name.as_deref(),
            ),
        }
    }
}

/// A client's stored columns: the INSERT of a registration, the one UPDATE of a PATCH (which
/// writes every column, absent fields with their current values).
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = clients, treat_none_as_null = true)]
struct ClientValues<'a> {
    first_name: &'a str,
    last_name: &'a str,
    preferred_name: Option<&'a str>,
    date_of_birth: NaiveDate,
    phone: Option<&'a str>,
    email: Option<&'a str>,
    referral_source: ReferralSource,
    mandated: bool,
    gender: Option<Gender>,
    search_text: String,
}
