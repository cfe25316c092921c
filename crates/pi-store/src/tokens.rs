//! Counts from privacyIDEA's token, container and subscription tables, which
//! this server only reads (the WebUI settings of `POST /auth` depend on
//! them). A table that does not exist counts as empty.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::conn::AnyConnection;
use crate::schema::{realm, subscription, token, tokencontainerowner, tokenowner};
use crate::store::count_existing;
use crate::{Store, StoreError};

/// The owner of tokens and containers: privacyIDEA's `(resolver, user_id,
/// realm)` triple.
#[derive(Debug, Clone, Copy)]
pub struct Owner<'a> {
    /// Resolver name.
    pub resolver: &'a str,
    /// The user's id in that resolver.
    pub user_id: &'a str,
    /// Realm name.
    pub realm: &'a str,
}

fn exists(c: &mut AnyConnection, table: &'static str) -> QueryResult<bool> {
    Ok(count_existing(c, &[table])? == 1)
}

fn realm_id(c: &mut AnyConnection, name: &str) -> QueryResult<Option<i32>> {
    realm::table
        .filter(realm::name.eq(name))
        .select(realm::id)
        .first(c)
        .optional()
}

/// The rows of an owner table (`tokenowner`, `tokencontainerowner`: the
/// same three owner columns) that name `owner`; 0 without the table or the
/// realm.
macro_rules! owned_count {
    ($store:expr, $owner:expr, $table:ident) => {
        $store.read(|c| {
            if !exists(c, stringify!($table))? {
                return Ok(0);
            }
            let Some(rid) = realm_id(c, $owner.realm)? else {
                return Ok(0);
            };
            Ok($table::table
                .filter($table::resolver.eq($owner.resolver))
                .filter($table::user_id.eq($owner.user_id))
                .filter($table::realm_id.eq(rid))
                .count()
                .first(c)?)
        })
    };
}

impl Store {
    /// Tokens owned by the user (privacyIDEA's `get_tokens(user=…, count=True)`).
    pub fn user_token_count(&self, owner: Owner<'_>) -> Result<i64, StoreError> {
        owned_count!(self, owner, tokenowner)
    }

    /// Containers owned by the user (`get_all_containers(user=…)["count"]`).
    pub fn user_container_count(&self, owner: Owner<'_>) -> Result<i64, StoreError> {
        owned_count!(self, owner, tokencontainerowner)
    }

    /// Active tokens that have an owner, on all nodes (the count
    /// `subscription_status` compares with the free tier).
    pub fn assigned_active_token_count(&self) -> Result<i64, StoreError> {
        self.read(|c| {
            if !exists(c, "token")? || !exists(c, "tokenowner")? {
                return Ok(0);
            }
            let owned = tokenowner::table
                .filter(tokenowner::token_id.is_not_null())
                .select(tokenowner::token_id.assume_not_null());
            Ok(token::table
                .filter(token::active.eq(true))
                .filter(token::id.eq_any(owned))
                .count()
                .first(c)?)
        })
    }

    /// End dates (`date_till`) of the subscriptions for `application`.
    pub fn subscription_end_dates(
        &self,
        application: &str,
    ) -> Result<Vec<Option<NaiveDateTime>>, StoreError> {
        self.read(|c| {
            if !exists(c, "subscription")? {
                return Ok(Vec::new());
            }
            Ok(subscription::table
                .filter(subscription::application.eq(application))
                .select(subscription::date_till)
                .load(c)?)
        })
    }
}
