//! `cachegraph admin set-password EMAIL`: the way back in when an admin's password is lost.
//! The password is read from stdin (one line) or, on a terminal, prompted for without echo;
//! never from the command line, where other users of the machine could read it.
use std::io::{BufRead, IsTerminal};

use crate::config::Config;

/// Sets `email`'s password, through the user service (so the cache is written through like for
/// any update, on every instance).
pub(super) async fn set_password(config: Config, email: &str) -> Result<(), String> {
    let password = read_password(email)?;
    let state = crate::connect(config).await.map_err(|e| e.to_string())?;
    let user = state
        .users
        .set_password(email, password)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(user_id = user.id, email = %user.email, role = ?user.role, "password set");
    Ok(())
}

fn read_password(email: &str) -> Result<String, String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("New password for {email}: "))
            .map_err(|e| format!("cannot read the password: {e}"))?;
        let again = rpassword::prompt_password("Again: ")
            .map_err(|e| format!("cannot read the password: {e}"))?;
        if first != again {
            return Err("the two passwords differ".into());
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        return Err("no password on stdin (pipe it in, or run this on a terminal)".into());
    }
    Ok(password)
}
