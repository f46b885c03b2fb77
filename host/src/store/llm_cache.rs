//! Rows of the LLM response cache (contract §7). The store keeps them and
//! bounds their number; what a key means, and whether an entry is still
//! fresh, is the gateway's business (llm/cache.rs), so the TTL can change
//! between restarts without rewriting a row.

use super::{Db, StoreError};

/// One cached answer of a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedAnswer {
    /// Hex sha256 of the request as the provider was asked it.
    pub key: String,
    /// Provider that answered (`openai`, `anthropic`, `gemini`).
    pub provider: String,
    /// Model that answered.
    pub model: String,
    /// The completion text.
    pub text: String,
    /// Prompt tokens the original call was billed.
    pub input_tokens: u32,
    /// Completion tokens the original call was billed.
    pub output_tokens: u32,
    /// When it was stored, Unix time in milliseconds.
    pub created_ms: i64,
}

/// What storing one answer changed in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CachePut {
    /// A new entry was added (false: an entry under that key was replaced).
    pub added: bool,
    /// Entries dropped, oldest first, to stay within the bound.
    pub evicted: u64,
}

impl Db {
    /// The answer stored under `key` at or after `fresh_since_ms`, if any.
    pub async fn llm_cache_get(
        &self,
        key: &str,
        fresh_since_ms: i64,
    ) -> Result<Option<CachedAnswer>, StoreError> {
        on_backend!(self, b => b.llm_cache_get(key, fresh_since_ms).await)
    }

    /// Store `answer` (replacing an entry under its key) as the newest
    /// entry, then drop the oldest entries beyond `max_entries`.
    pub async fn llm_cache_put(
        &self,
        answer: &CachedAnswer,
        max_entries: u64,
    ) -> Result<CachePut, StoreError> {
        on_backend!(self, b => b.llm_cache_put(answer, max_entries.max(1)).await)
    }

    /// Drop entries stored before `stale_before_ms`; returns the entries left.
    pub async fn llm_cache_prune(&self, stale_before_ms: i64) -> Result<u64, StoreError> {
        on_backend!(self, b => b.llm_cache_prune(stale_before_ms).await)
    }
}

/// The largest entry count the SQL compares with (both databases take i64).
pub(super) fn bound(max_entries: u64) -> i64 {
    i64::try_from(max_entries).unwrap_or(i64::MAX)
}
