//! Which API keys a role may grant. The same rule decides what survives a change of the granting
//! user: a key lives only while the user behind it could still create it.
use callbroker_wire::Role;

/// The roles of the API keys a user of `role` may create, list and revoke: admins any, operators
/// publishers' keys, others none.
pub fn key_roles_grantable_by(role: Role) -> &'static [Role] {
    match role {
        Role::Admin => &Role::ALL,
        Role::Operator => &[Role::Publisher],
        Role::Viewer | Role::Publisher => &[],
    }
}

/// The roles of keys a user no longer grants once moved from `from` to `to` (their keys of these
/// roles are revoked).
pub fn key_roles_lost(from: Role, to: Role) -> Vec<Role> {
    let kept = key_roles_grantable_by(to);
    key_roles_grantable_by(from).iter().copied().filter(|r| !kept.contains(r)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_demotion_loses_what_the_new_role_cannot_grant() {
        assert_eq!(key_roles_lost(Role::Admin, Role::Operator), vec![Role::Admin, Role::Operator, Role::Viewer]);
        assert_eq!(key_roles_lost(Role::Operator, Role::Viewer), vec![Role::Publisher]);
        assert!(key_roles_lost(Role::Operator, Role::Admin).is_empty(), "a promotion keeps every key");
        assert!(key_roles_lost(Role::Admin, Role::Admin).is_empty());
    }
}
