//! The token types of privacyIDEA 3.14 and who may enroll them in the web UI
//! (the token classes' `ui_enroll`), for `ui_get_enroll_tokentypes`.
//!
//! The type names and roles are those of the released 3.14; the
//! descriptions are this project's own wording.

/// A token type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenType {
    /// The type name (`hotp`, `4eyes`, …); the enroll action is `enroll` + upper case.
    pub name: &'static str,
    /// Administrators may enroll it in the web UI.
    pub admin_enroll: bool,
    /// Users may enroll it in the web UI.
    pub user_enroll: bool,
    /// A short description.
    pub description: &'static str,
}

impl TokenType {
    /// Whether `role` (`admin` or `user`) may enroll the type in the web UI.
    pub fn ui_enroll(&self, role: &str) -> bool {
        match role {
            "admin" => self.admin_enroll,
            "user" => self.user_enroll,
            _ => false,
        }
    }

    /// The policy action that permits enrolling the type: `enroll<TYPE>`.
    pub fn enroll_action(&self) -> String {
        format!("enroll{}", self.name.to_uppercase())
    }
}

const fn t(
    name: &'static str,
    admin_enroll: bool,
    user_enroll: bool,
    description: &'static str,
) -> TokenType {
    TokenType {
        name,
        admin_enroll,
        user_enroll,
        description,
    }
}

/// Every token type of privacyIDEA 3.14, by name.
pub const TOKEN_TYPES: &[TokenType] = &[
    t(
        "4eyes",
        true,
        false,
        "Four eyes: authentication needs tokens of several users.",
    ),
    t(
        "applspec",
        true,
        true,
        "Application specific password: a fixed password for one service.",
    ),
    t(
        "certificate",
        true,
        true,
        "Certificate: an X.509 certificate.",
    ),
    t("daplug", false, false, "Daplug: a Daplug hardware token."),
    t(
        "daypassword",
        true,
        true,
        "Day password: a time-based password valid for a configurable period.",
    ),
    t(
        "email",
        true,
        true,
        "Email: a one-time password sent by email.",
    ),
    t("hotp", true, true, "HOTP: event-based one-time passwords."),
    t(
        "indexedsecret",
        true,
        true,
        "Indexed secret: asks for characters at given positions of a secret.",
    ),
    t("motp", true, true, "mOTP: mobile one-time passwords."),
    t(
        "ocra",
        false,
        false,
        "OCRA: challenge-response by the OATH OCRA algorithm.",
    ),
    t(
        "paper",
        true,
        true,
        "Paper: a printed list of one-time passwords.",
    ),
    t(
        "passkey",
        true,
        true,
        "Passkey: a FIDO2 discoverable credential.",
    ),
    t(
        "push",
        true,
        true,
        "Push: confirm the login on a smartphone.",
    ),
    t(
        "pw",
        false,
        false,
        "Password: a static password (internal use).",
    ),
    t(
        "question",
        true,
        true,
        "Questionnaire: answers to security questions.",
    ),
    t(
        "radius",
        true,
        true,
        "RADIUS: forwards the authentication to a RADIUS server.",
    ),
    t(
        "registration",
        true,
        false,
        "Registration: a one-time code to register the first token.",
    ),
    t(
        "remote",
        true,
        false,
        "Remote: forwards the authentication to another privacyIDEA server.",
    ),
    t(
        "sms",
        true,
        true,
        "SMS: a one-time password sent by text message.",
    ),
    t("spass", true, true, "Simple pass: only the PIN is checked."),
    t("sshkey", true, true, "SSH key: a public SSH key."),
    t(
        "tan",
        true,
        true,
        "TAN: a list of transaction numbers usable in any order.",
    ),
    t(
        "tiqr",
        true,
        true,
        "TiQR: authentication with the TiQR smartphone app.",
    ),
    t("totp", true, true, "TOTP: time-based one-time passwords."),
    t(
        "vasco",
        true,
        false,
        "VASCO: a VASCO (OneSpan) hardware token.",
    ),
    t(
        "webauthn",
        true,
        true,
        "WebAuthn: a FIDO2 / WebAuthn authenticator.",
    ),
    t(
        "yubico",
        true,
        true,
        "Yubico: a YubiKey checked by the YubiCloud service.",
    ),
    t(
        "yubikey",
        true,
        true,
        "YubiKey: a YubiKey in AES (Yubico OTP) mode.",
    ),
];

/// The token type named `name`.
pub fn token_type(name: &str) -> Option<&'static TokenType> {
    TOKEN_TYPES.iter().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enroll_actions_are_in_the_catalogue() {
        let defs = crate::defs::policy_defs();
        for t in TOKEN_TYPES {
            for role in ["admin", "user"] {
                if t.ui_enroll(role) {
                    let action = t.enroll_action();
                    assert!(
                        defs.scope(role).and_then(|s| s.get(&action)).is_some(),
                        "{role} scope lacks {action}"
                    );
                }
            }
        }
    }

    #[test]
    fn names_are_sorted_and_unique() {
        let names: Vec<&str> = TOKEN_TYPES.iter().map(|t| t.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
        assert_eq!(
            token_type("hotp").map(|t| t.enroll_action()).as_deref(),
            Some("enrollHOTP")
        );
        assert!(token_type("ocra").is_some_and(|t| !t.ui_enroll("admin")));
        assert!(token_type("remote").is_some_and(|t| t.ui_enroll("admin") && !t.ui_enroll("user")));
    }
}
