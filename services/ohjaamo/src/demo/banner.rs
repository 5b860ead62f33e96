//! The few lines the demo starts with: what runs where, and where to look.

use std::fmt;

/// What the demo runs, for people.
pub struct Banner<'a> {
    pub core: &'a str,
    pub database: &'a str,
    pub simulator: &'a str,
    pub speed: f64,
    /// Each adapter's name and what it runs where.
    pub adapters: Vec<(&'a str, &'a str)>,
    /// The recovery display (heräämö) and the bed board (paikanvaraus).
    pub displays: &'a [String; 2],
    pub sources: &'a str,
    /// The development OIDC issuer the core takes tokens from.
    pub issuer: &'a str,
}

impl fmt::Display for Banner<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let row = |f: &mut fmt::Formatter<'_>, label: &str, text: &str| {
            writeln!(f, "  {label:<13}{text}")
        };
        writeln!(
            f,
            "Ohjaamo demo: a hospital's day at {}x, on this machine",
            self.speed
        )?;
        row(
            f,
            "core",
            &format!("{}  (SQLite {}, in-process bus)", self.core, self.database),
        )?;
        row(
            f,
            "simulator",
            &format!("{}  (the export /api/v1, the truth /truth)", self.simulator),
        )?;
        for (name, what) in &self.adapters {
            row(f, &format!("adapter-{name}"), what)?;
        }
        row(
            f,
            "issuer",
            &format!(
                "{}  DEVELOPMENT sign-in (pick a name, no password): never use in production",
                self.issuer
            ),
        )?;
        row(f, "displays", &format!("{}  (heräämö)", self.displays[0]))?;
        row(f, "", &format!("{}  (paikanvaraus)", self.displays[1]))?;
        row(
            f,
            "sources",
            &format!("{}  (which source is fed)", self.sources),
        )?;
        write!(
            f,
            "From here on only warnings and changes (RUST_LOG=info or debug tells more). Ctrl-C stops."
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_says_what_runs_where() {
        let displays = [
            "http://h:8080/displays/recovery".to_owned(),
            "http://h:8080/displays/beds".to_owned(),
        ];
        let text = Banner {
            core: "http://h:8080/fhir",
            database: "demo/ohjaamo.db",
            simulator: "http://h:8090",
            speed: 60.0,
            adapters: vec![("adt", "ADT feed: MLLP on h:2575")],
            displays: &displays,
            sources: "http://h:8080/sources",
            issuer: "http://h:8091",
        }
        .to_string();
        for part in [
            "http://h:8080/fhir",
            "http://h:8090",
            "adapter-adt  ADT feed: MLLP on h:2575",
            "http://h:8080/displays/recovery",
            "http://h:8080/displays/beds",
            "at 60x",
            "http://h:8091  DEVELOPMENT sign-in",
            "never use in production",
        ] {
            assert!(text.contains(part), "{part} in\n{text}");
        }
        assert!(text.lines().count() <= 12, "a short banner:\n{text}");
    }
}
