//! Checks of values before they reach the database, and URL redaction
//! for error messages.

use crate::Error;
use crate::model::{MetricSample, NewAlert, NewVm, ScoreSample};

pub(super) fn check_text(what: &str, text: &str, max: usize) -> Result<(), Error> {
    if text.is_empty() || text.len() > max {
        return Err(Error::InvalidInput {
            reason: format!("{what} must have 1..={max} bytes, got {}", text.len()),
        });
    }
    if text.contains('\0') {
        return Err(Error::InvalidInput {
            reason: format!("{what} contains a NUL character; remove it"),
        });
    }
    Ok(())
}

pub(super) fn check_vm(vm: &NewVm) -> Result<(), Error> {
    check_text("vm name", &vm.name, 1024)?;
    check_text("vm status", &vm.status, 64)
}

pub(super) fn finite(what: &str, v: f64) -> Result<(), Error> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(Error::InvalidInput {
            reason: format!("{what} is {v}; pass finite values"),
        })
    }
}

pub(super) fn check_metric(m: &MetricSample) -> Result<(), Error> {
    for (what, v) in [
        ("cpu", m.cpu),
        ("memory", m.memory),
        ("disk", m.disk),
        ("net_rx", m.net_rx),
        ("net_tx", m.net_tx),
    ] {
        finite(what, v)?;
    }
    m.performance_score
        .map_or(Ok(()), |v| finite("performance_score", v))
}

pub(super) fn check_alert(a: &NewAlert) -> Result<(), Error> {
    check_text("alert type", &a.alert_type, 256)?;
    if a.alert_type.chars().any(char::is_control) {
        return Err(Error::InvalidInput {
            reason: "alert type contains control characters; remove them".into(),
        });
    }
    Ok(())
}

pub(super) fn check_score(s: &ScoreSample) -> Result<(), Error> {
    finite("overall", s.overall)?;
    finite("efficiency", s.efficiency)?;
    finite("reliability", s.reliability)
}

/// The URL without a password (WHATWG parsing: a password may hold `@`,
/// `:` or `/`); text that does not parse as a URL is not echoed at all.
pub(super) fn redact(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut parsed) => {
            let has_userinfo = parsed.password().is_some() || !parsed.username().is_empty();
            // An `@` after the authority means a password with an unescaped
            // `/`, `?` or `#` in it: where it ends is unknowable, so show
            // only the scheme.
            let tail_has_at = parsed.path().contains('@')
                || parsed.query().is_some_and(|q| q.contains('@'))
                || parsed.fragment().is_some_and(|f| f.contains('@'));
            if has_userinfo && tail_has_at {
                return format!("{}://***", parsed.scheme());
            }
            if parsed.password().is_some() {
                // Cannot fail: a URL with a password has a host.
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => match text.split_once(':') {
            Some((scheme, _))
                if !scheme.is_empty()
                    && scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
            {
                format!("{scheme}:<not a valid URL>")
            }
            _ => "<not a valid URL>".to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_passwords_that_contain_at_signs_and_colons() {
        // Was: cut at the first `@`, showing `ss:w@rd`.
        let shown = redact("postgres://admin:p@ss:w@rd@db.example:5432/fleet");
        assert_eq!(shown, "postgres://admin:***@db.example:5432/fleet");
        // A `/` in a password hides where it ends: only the scheme is shown.
        let shown = redact("postgres://admin:p@ss/w@rd@db.example/fleet");
        assert_eq!(shown, "postgres://***");
        assert_eq!(redact("mysql://u:secret@h/db"), "mysql://u:***@h/db");
        assert_eq!(redact("mysql://u@h/db"), "mysql://u@h/db");
        assert!(!redact("mysql://u:se cret@[bad/db").contains("se cret"));
        assert_eq!(redact("no url at all, secret"), "<not a valid URL>");
    }
}
