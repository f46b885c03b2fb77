//! The keeper task: one dedicated connection (outside the pool) that
//! migrates the schema, LISTENs for the fleet's changes and applies them to
//! this instance's memory, for as long as the store lives.
//!
//! Each session: connect → migrate (under the advisory lock) → LISTEN →
//! full resync (user styles reloaded, plugin table told to reload) → serve
//! notifications. Notifications are only sent while a session listens, so
//! the resync after every (re)connect is what guarantees that nothing
//! written during an outage is missed. A connection that goes silent is
//! probed with `SELECT 1` after [`HEARTBEAT`] without traffic.

use std::{
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use tokio::sync::mpsc;
use tokio_postgres::{
    AsyncMessage, Client, Socket,
    tls::{MakeTlsConnect, TlsConnect},
};

use super::{Shared, StoreError, bounded, connect::Tls, db_err, migrate, styles};

const MIN_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
const HEARTBEAT: Duration = Duration::from_secs(10);
/// The listener's `application_name` (when the URL sets none), so it can
/// be told apart in `pg_stat_activity`.
pub(super) const LISTENER_APPLICATION: &str = "promptsculptor-listener";

/// Whether this instance can use the database, and why not.
pub(super) struct Health {
    state: Mutex<State>,
}

struct State {
    /// The listener is connected and has resynced.
    connected: bool,
    /// The schema was found current (stays true across reconnects).
    migrated: bool,
    /// Why the instance is not ready.
    reason: String,
}

impl Default for Health {
    fn default() -> Health {
        Health {
            state: Mutex::new(State {
                connected: false,
                migrated: false,
                reason: "not connected to the database yet".to_string(),
            }),
        }
    }
}

impl Health {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Plain flags: a poisoned lock still holds usable values.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `Ok` when connected and migrated; otherwise the reason.
    pub(super) fn status(&self) -> Result<(), String> {
        let s = self.lock();
        if s.connected && s.migrated {
            Ok(())
        } else {
            Err(s.reason.clone())
        }
    }

    /// `Ok` once the schema is known to be current: operations before that
    /// would hit missing tables.
    pub(super) fn schema_ready(&self) -> Result<(), StoreError> {
        let s = self.lock();
        if s.migrated {
            Ok(())
        } else {
            Err(StoreError::Unavailable(s.reason.clone()))
        }
    }

    fn migrated(&self) {
        self.lock().migrated = true;
    }

    fn connected(&self) {
        let mut s = self.lock();
        s.connected = true;
        s.reason.clear();
    }

    fn down(&self, error: &StoreError) {
        let mut s = self.lock();
        s.connected = false;
        if matches!(error, StoreError::Corrupt(_)) {
            s.migrated = false;
        }
        // Callers wrap the reason in `Unavailable` again: keep one prefix.
        s.reason = match error {
            StoreError::Unavailable(m) => m.clone(),
            other => other.to_string(),
        };
    }
}

/// Run sessions forever, backing off 250 ms → 5 s between failed ones.
pub(super) async fn keep(shared: Arc<Shared>) {
    let mut backoff = MIN_BACKOFF;
    // The reason of the outage already logged (logged once per outage).
    let mut outage: Option<String> = None;
    loop {
        let mut reached = false;
        let error = match &shared.target.tls {
            Tls::Plain => session(&shared, tokio_postgres::NoTls, &mut reached).await,
            Tls::Rustls(tls) => session(&shared, tls.clone(), &mut reached).await,
        };
        shared.health.down(&error);
        if reached {
            // A new outage: log it, and start backing off from the bottom.
            backoff = MIN_BACKOFF;
            outage = None;
        }
        let reason = error.to_string();
        if outage.as_deref() != Some(reason.as_str()) {
            let database = shared.target.describe();
            match &error {
                StoreError::Corrupt(_) => {
                    tracing::error!(%database, "refusing the database: {reason}");
                }
                _ if outage.is_none() => {
                    tracing::warn!(%database, "database unavailable, reconnecting: {reason}");
                }
                // Same outage, another symptom: not worth a warning each.
                _ => tracing::debug!(%database, "database still unavailable: {reason}"),
            }
            outage = Some(reason);
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Aborts the connection driver when the session ends, even when the
/// socket never reports an error (a silently dead peer).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One connection's life; returns why it ended. `reached` is set once the
/// session was fully up (connected, migrated, resynced).
async fn session<T>(shared: &Shared, tls: T, reached: &mut bool) -> StoreError
where
    T: MakeTlsConnect<Socket> + Send,
    T::Stream: Send + 'static,
    T::TlsConnect: Send,
    <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
{
    match serve(shared, tls, reached).await {
        Ok(never) => match never {},
        Err(e) => e,
    }
}

enum Never {}

async fn serve<T>(shared: &Shared, tls: T, reached: &mut bool) -> Result<Never, StoreError>
where
    T: MakeTlsConnect<Socket> + Send,
    T::Stream: Send + 'static,
    T::TlsConnect: Send,
    <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
{
    let timeout = shared.timeout;
    let mut config = shared.target.config.clone();
    if config.get_application_name() == Some("promptsculptor") {
        config.application_name(LISTENER_APPLICATION);
    }
    let (mut client, mut connection) =
        bounded(timeout, async { config.connect(tls).await.map_err(db_err) }).await?;

    // Drive the connection on its own task and hand its messages over: the
    // client's queries (migrations, reloads) need the connection polled
    // while this task awaits them.
    let (tx, mut rx) = mpsc::unbounded_channel();
    let _driver = AbortOnDrop(tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(message)) => {
                    if tx.send(Ok(message)).is_err() {
                        return;
                    }
                }
                Some(Err(e)) => {
                    let _ = tx.send(Err(e));
                    return;
                }
                None => return,
            }
        }
    }));

    // Not bounded: another instance may hold the lock for a long migration.
    migrate::apply(&mut client).await?;
    shared.health.migrated();
    bounded(timeout, async {
        client
            .batch_execute("LISTEN ps_styles; LISTEN ps_plugins")
            .await
            .map_err(db_err)
    })
    .await?;
    reload_styles(shared, &mut client).await?;
    shared.hooks.plugin_changes.send_modify(|n| *n += 1);
    shared.health.connected();
    *reached = true;
    tracing::info!(database = %shared.target.describe(), "database connected; listening for changes");

    loop {
        tokio::select! {
            message = rx.recv() => match message {
                Some(Ok(AsyncMessage::Notification(n))) => match n.channel() {
                    "ps_styles" => {
                        let newer = match (n.payload().parse::<u64>(), shared.hooks.styles.user_version()) {
                            (Ok(v), Some(current)) => v > current,
                            _ => true,
                        };
                        if newer {
                            reload_styles(shared, &mut client).await?;
                        }
                    }
                    "ps_plugins" => shared.hooks.plugin_changes.send_modify(|n| *n += 1),
                    _ => {}
                },
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(db_err(e)),
                None => {
                    return Err(StoreError::Unavailable(
                        "the listener connection closed".to_string(),
                    ));
                }
            },
            () = tokio::time::sleep(HEARTBEAT) => {
                bounded(timeout, async {
                    client.simple_query("SELECT 1").await.map_err(db_err)
                })
                .await?;
            }
        }
    }
}

/// Read every user style and publish them (ignored by the cache when it
/// already holds a newer version).
async fn reload_styles(shared: &Shared, client: &mut Client) -> Result<(), StoreError> {
    let (version, user) = bounded(shared.timeout, styles::load(client)).await?;
    shared.hooks.styles.replace_user(version, user);
    Ok(())
}
