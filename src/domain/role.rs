//! The roles a token can carry (what each may do: `service::access`).

use super::text_enum;

text_enum!(
    Role {
        /// Everything.
        Admin = "admin",
        /// Reads everything; approves, returns and reopens reports.
        Reviewer = "reviewer",
        /// Writes within its alliances.
        Secretariat = "secretariat",
        /// Reads its alliances, edits its own organisation.
        Member = "member",
        /// Reads only.
        Viewer = "viewer",
    }
);
