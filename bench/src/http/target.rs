//! Where requests go: `host:port` and the GraphQL endpoint's path, from a local address or an
//! `http://` URL (the load generator speaks no TLS).
/// Where requests go: `host:port` and the GraphQL path.
#[derive(Clone, Debug)]
pub struct Target {
    /// `host:port`, used to connect and as the `Host` header.
    pub authority: String,
    /// The GraphQL endpoint's path, e.g. `/graphql`.
    pub path: String,
}

impl Target {
    /// A local server on `addr` (`127.0.0.1:port`).
    pub fn local(addr: &str) -> Self {
        Self {
            authority: addr.to_owned(),
            path: "/graphql".into(),
        }
    }

    /// `http://host:port[/path]`; the path defaults to `/graphql`.
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            format!("`{url}`: only http:// URLs are supported (no TLS in the load generator)")
        })?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.is_empty() {
            return Err(format!("`{url}` has no host"));
        }
        let authority = if authority.contains(':') {
            authority.to_owned()
        } else {
            format!("{authority}:80")
        };
        let path = match path.trim_end_matches('/') {
            "" => "/graphql".to_owned(),
            p => p.to_owned(),
        };
        Ok(Self { authority, path })
    }

    /// The base URL, for reports.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.authority, self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_targets() {
        let t = Target::parse("http://127.0.0.1:8000").unwrap();
        assert_eq!(
            (t.authority.as_str(), t.path.as_str()),
            ("127.0.0.1:8000", "/graphql")
        );
        let t = Target::parse("http://localhost/api/graphql/").unwrap();
        assert_eq!(
            (t.authority.as_str(), t.path.as_str()),
            ("localhost:80", "/api/graphql")
        );
        assert!(Target::parse("https://x").is_err());
    }
}
