//! Building SQL with numbered placeholders (`$1`, `$2`, …), which both PostgreSQL and
//! sqlx's SQLite driver understand, so the two backends share their query text.

/// A value bound to a placeholder. User input only ever reaches SQL as one of these.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Text(String),
    Int(i64),
    /// A text that may be SQL NULL.
    MaybeText(Option<String>),
    MaybeInt(Option<i64>),
    Bool(bool),
}

/// SQL text under construction and the values for its placeholders.
#[derive(Debug, Default)]
pub(crate) struct Sql {
    pub text: String,
    pub binds: Vec<Bind>,
}

impl Sql {
    pub fn new(text: &str) -> Sql {
        Sql {
            text: text.to_owned(),
            binds: Vec::new(),
        }
    }

    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `value`.
    pub fn text(&mut self, value: impl Into<String>) -> &mut Self {
        self.binds.push(Bind::Text(value.into()));
        self.placeholder()
    }

    pub fn int(&mut self, value: i64) -> &mut Self {
        self.binds.push(Bind::Int(value));
        self.placeholder()
    }

    /// Appends a placeholder for a text that may be NULL.
    pub fn maybe_text(&mut self, value: Option<&str>) -> &mut Self {
        self.binds.push(Bind::MaybeText(value.map(str::to_owned)));
        self.placeholder()
    }

    pub fn maybe_int(&mut self, value: Option<i64>) -> &mut Self {
        self.binds.push(Bind::MaybeInt(value));
        self.placeholder()
    }

    pub fn boolean(&mut self, value: bool) -> &mut Self {
        self.binds.push(Bind::Bool(value));
        self.placeholder()
    }

    /// Appends `(…, …)` with one placeholder per value.
    pub fn text_list<'a>(&mut self, values: impl IntoIterator<Item = &'a String>) -> &mut Self {
        self.push("(");
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.text(v.as_str());
        }
        self.push(")")
    }

    fn placeholder(&mut self) -> &mut Self {
        let n = self.binds.len();
        self.text.push('$');
        self.text.push_str(&n.to_string());
        self
    }
}

/// Binds every value of a [`Sql`] to a sqlx query, whichever backend it is for.
macro_rules! bind_all {
    ($query:expr, $binds:expr) => {{
        let mut query = $query;
        for bind in $binds {
            query = match bind {
                $crate::sql::Bind::Text(s) => query.bind(s.as_str()),
                $crate::sql::Bind::Int(i) => query.bind(*i),
                $crate::sql::Bind::MaybeText(s) => query.bind(s.as_deref()),
                $crate::sql::Bind::MaybeInt(i) => query.bind(*i),
                $crate::sql::Bind::Bool(b) => query.bind(*b),
            };
        }
        query
    }};
}
pub(crate) use bind_all;

/// Decodes a row of `rtype, id, version, last_updated, deleted, content` into a
/// [`crate::StoredVersion`].
macro_rules! stored_version {
    ($row:expr) => {{
        use sqlx::Row as _;
        let row = $row;
        $crate::model::StoredVersion {
            rtype: row.try_get::<String, _>(0)?,
            id: row.try_get::<String, _>(1)?,
            version: row.try_get::<i64, _>(2)?,
            last_updated: row.try_get::<i64, _>(3)?,
            deleted: row.try_get::<bool, _>(4)?,
            content: row.try_get::<String, _>(5)?,
        }
    }};
}
pub(crate) use stored_version;

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub(crate) fn like_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Rows per `IN (…)` list: well under SQLite's 32,766 placeholder limit and short
/// enough for PostgreSQL to plan quickly.
pub(crate) const IN_LIST_CHUNK: usize = 500;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order() {
        let mut sql = Sql::new("SELECT 1 WHERE a = ");
        sql.text("x").push(" AND b IN ");
        sql.text_list(&["p".to_owned(), "q".to_owned()]);
        sql.push(" AND c = ").int(3);
        assert_eq!(
            sql.text,
            "SELECT 1 WHERE a = $1 AND b IN ($2, $3) AND c = $4"
        );
        assert_eq!(sql.binds.len(), 4);
    }

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(like_escape(r"50%_a\b"), r"50\%\_a\\b");
    }
}
