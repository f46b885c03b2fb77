//! `promptsculptor db import`: copy a SQLite registry (user styles and,
//! optionally, the request log) into the configured database.

use std::path::Path;

use super::{Db, StoreError};

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportReport {
    /// User styles copied.
    pub styles_imported: u64,
    /// User styles skipped because the target already has the name.
    pub styles_skipped: u64,
    /// Request-log rows copied.
    pub log_rows: u64,
}

/// Request-log rows written per transaction during an import.
const LOG_CHUNK: usize = 500;

impl Db {
    /// Copy the user styles (and with `request_log`, the request log) of
    /// the SQLite file at `from` into this database. A style whose name is
    /// taken is skipped, not overwritten: running the import twice copies
    /// nothing the second time (request-log rows excepted: they have no
    /// identity and are copied again).
    pub async fn import_sqlite(
        &self,
        from: &Path,
        request_log: bool,
    ) -> Result<ImportReport, StoreError> {
        if !from.is_file() {
            return Err(StoreError::NotFound(format!(
                "SQLite file {}",
                from.display()
            )));
        }
        let path = from.to_path_buf();
        let (styles, log) =
            tokio::task::spawn_blocking(move || super::sqlite::read_for_import(&path, request_log))
                .await
                .map_err(|e| StoreError::Worker(e.to_string()))??;
        let (styles_imported, styles_skipped) =
            on_backend!(self, b => b.import_styles(&styles).await)?;
        for chunk in log.chunks(LOG_CHUNK) {
            self.write_request_log(chunk).await?;
        }
        if styles_imported > 0 {
            self.refresh_styles().await?;
        }
        Ok(ImportReport {
            styles_imported,
            styles_skipped,
            log_rows: log.len() as u64,
        })
    }
}
