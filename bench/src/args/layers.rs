//! The cache layers a leg runs with (`--layers`): the ladder from Redis entries alone up to every
//! layer, each step switching one more of the server's layers on through its environment
//! (`CACHE_L1`, `CACHE_PARSED_QUERIES`, `CACHE_RESPONSES`).

/// Which of the server's cache layers are on, cumulatively, from the store up to the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layers {
    /// Cache entries in the store only (Redis, or the in-process map): no L1, no parsed
    /// documents, no whole responses.
    Entries,
    /// Entries and L1, the in-process copy of Redis entries.
    L1,
    /// Entries, L1 and parsed (and validated) documents.
    Parsed,
    /// Every layer: the server's defaults, whole responses included.
    All,
}

impl Layers {
    /// The ladder, bottom up: the order legs run and bars are drawn in.
    pub const LADDER: [Layers; 4] = [Layers::Entries, Layers::L1, Layers::Parsed, Layers::All];

    /// Reads a `--layers` item.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "entries" | "bare" => Some(Self::Entries),
            "l1" => Some(Self::L1),
            "parsed" => Some(Self::Parsed),
            "all" | "every" => Some(Self::All),
            _ => None,
        }
    }

    /// The `--layers` name, also written to `results.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Entries => "entries",
            Self::L1 => "l1",
            Self::Parsed => "parsed",
            Self::All => "all",
        }
    }

    /// What is on, in words, for labels: `entries only`, …, `every layer`.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Entries => "entries only",
            Self::L1 => "entries + L1",
            Self::Parsed => "entries + L1 + parsed",
            Self::All => "every layer",
        }
    }

    /// The label of a leg of `backend` with these layers: the backend's name alone for every
    /// layer (the server's defaults), `redis (entries + L1)` and so on for the others.
    pub fn leg_label(self, backend: &str) -> String {
        match self {
            Self::All => backend.to_owned(),
            other => format!("{backend} ({})", other.describe()),
        }
    }

    /// The server's environment for these layers (nothing for every layer: the defaults).
    pub fn env(self) -> Vec<(String, String)> {
        let off: &[&str] = match self {
            Self::Entries => &["CACHE_L1", "CACHE_PARSED_QUERIES", "CACHE_RESPONSES"],
            Self::L1 => &["CACHE_PARSED_QUERIES", "CACHE_RESPONSES"],
            Self::Parsed => &["CACHE_RESPONSES"],
            Self::All => &[],
        };
        off.iter()
            .map(|k| ((*k).to_owned(), "false".to_owned()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_step_switches_one_more_layer_on() {
        let off: Vec<usize> = Layers::LADDER.iter().map(|l| l.env().len()).collect();
        assert_eq!(off, [3, 2, 1, 0]);
        assert!(Layers::Entries.env().iter().all(|(_, v)| v == "false"));
        assert_eq!(Layers::All.leg_label("redis"), "redis");
        assert_eq!(Layers::L1.leg_label("redis"), "redis (entries + L1)");
        for l in Layers::LADDER {
            assert_eq!(Layers::parse(l.as_str()), Some(l));
        }
        assert_eq!(Layers::parse("ALL"), Some(Layers::All));
        assert_eq!(Layers::parse("responses"), None);
    }
}
