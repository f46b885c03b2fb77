//! Evaluate's rows (contract §6): saved suites and stored runs. The JSON
//! they carry is opaque here: the HTTP layer checks it before it is stored.

/// A saved suite.
#[derive(Debug, Clone, PartialEq)]
pub struct SuiteRecord {
    /// Its name (the style-name rules).
    pub name: String,
    /// What it tests.
    pub description: String,
    /// `{"cases": [...], "assert": [...]}` as JSON text.
    pub body: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// A run to store.
#[derive(Debug, Clone)]
pub struct NewRun {
    /// Its id.
    pub run_id: String,
    /// RFC 3339.
    pub created_at: String,
    /// The run without its results, as JSON text.
    pub head: String,
    /// Its results, a JSON array as text.
    pub results: String,
}

/// A stored run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    /// The run without its results, as JSON text.
    pub head: String,
    /// Its results (absent from list reads), a JSON array as text.
    pub results: Option<String>,
}
