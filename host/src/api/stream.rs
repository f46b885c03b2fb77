//! Streamed answers (contract §7): an operation run under a [`StreamSink`]
//! answers as server-sent events once its plugin call starts — `start`,
//! per LLM call `llm` then `delta`s, and last one `result` or `error`.
//!
//! The operation's future is polled by the response body itself, so a
//! client that disconnects drops it: the plugin call and its provider
//! request end with it.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use axum::http::{HeaderMap, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::error::ApiError;
use crate::llm::stream::StreamEvent;

/// How often an idle stream gets a comment line, so proxies keep it open.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Whether the client asked for a stream: `"stream": true`, or
/// `Accept: text/event-stream` unless the body says `"stream": false`.
pub fn wanted(body_stream: Option<bool>, headers: &HeaderMap) -> bool {
    body_stream.unwrap_or_else(|| {
        headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.to_ascii_lowercase().contains("text/event-stream"))
    })
}

/// A finished operation: its JSON body or its error.
pub type Outcome = Result<Value, ApiError>;

/// The operation's future, with whatever it must hand back when done.
pub type Running<R> = Pin<Box<dyn Future<Output = (Outcome, R)> + Send>>;

/// Run `fut` until its plugin call starts (the first event) or it ends.
/// Ended first: `Err` with its outcome, for a plain JSON answer (a
/// validation error, an unknown strategy). Started: the event-stream
/// answer; `done` is called with the outcome once it is known.
pub async fn respond<R: Send + 'static>(
    request_id: String,
    mut fut: Running<R>,
    mut events: mpsc::UnboundedReceiver<StreamEvent>,
    done: impl FnOnce(&Outcome, R) + Send + 'static,
    cancelled: impl FnOnce() + Send + 'static,
) -> Result<Response, (Outcome, R)> {
    let mut queue = VecDeque::new();
    let ended = tokio::select! {
        biased;
        ev = events.recv() => {
            queue.extend(ev.map(|ev| event(&request_id, ev)));
            None
        }
        out = &mut fut => Some(out),
    };
    let mut state = State {
        request_id,
        fut: Some(fut),
        events,
        queue,
        done: Some(Box::new(done)),
        cancelled: Some(Box::new(cancelled)),
    };
    if let Some((outcome, rest)) = ended {
        // A call that never pends (no LLM) starts and ends in one poll: it
        // started all the same, so it streams; one that never started is
        // answered as plain JSON.
        match state.events.try_recv() {
            Ok(first) => {
                let first = event(&state.request_id, first);
                state.queue.push_back(first);
                state.finish(outcome, rest);
            }
            Err(_) => {
                (state.done, state.cancelled) = (None, None);
                return Err((outcome, rest));
            }
        }
    }
    let stream = futures_util::stream::unfold(state, next);
    let sse = Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE));
    let mut resp = sse.into_response();
    // Tell buffering proxies (nginx) to pass events on as they come.
    resp.headers_mut().insert(
        "x-accel-buffering",
        axum::http::HeaderValue::from_static("no"),
    );
    Ok(resp)
}

type Done<R> = Box<dyn FnOnce(&Outcome, R) + Send>;

struct State<R> {
    request_id: String,
    fut: Option<Running<R>>,
    events: mpsc::UnboundedReceiver<StreamEvent>,
    queue: VecDeque<Event>,
    done: Option<Done<R>>,
    cancelled: Option<Box<dyn FnOnce() + Send>>,
}

impl<R> State<R> {
    /// The operation ended: queue the events it sent before the end, then
    /// its result or error, and report the outcome.
    fn finish(&mut self, outcome: Outcome, rest: R) {
        self.fut = None;
        while let Ok(ev) = self.events.try_recv() {
            self.queue.push_back(event(&self.request_id, ev));
        }
        self.queue.push_back(last(&self.request_id, &outcome));
        if let Some(done) = self.done.take() {
            done(&outcome, rest);
        }
    }
}

impl<R> Drop for State<R> {
    /// Dropped before the outcome was known: the client went away.
    fn drop(&mut self) {
        if self.done.is_some()
            && let Some(cancelled) = self.cancelled.take()
        {
            cancelled();
        }
    }
}

async fn next<R>(mut s: State<R>) -> Option<(Result<Event, Infallible>, State<R>)> {
    loop {
        if let Some(e) = s.queue.pop_front() {
            return Some((Ok(e), s));
        }
        let fut = s.fut.as_mut()?;
        tokio::select! {
            biased;
            Some(ev) = s.events.recv() => s.queue.push_back(event(&s.request_id, ev)),
            (outcome, rest) = fut => s.finish(outcome, rest),
        }
    }
}

fn event(request_id: &str, ev: StreamEvent) -> Event {
    let (name, data) = match ev {
        StreamEvent::Start { strategy, version } => (
            "start",
            json!({ "request_id": request_id, "strategy": { "name": strategy, "version": version } }),
        ),
        StreamEvent::Llm { call } => ("llm", json!({ "call": call })),
        StreamEvent::Delta { call, text } => ("delta", json!({ "call": call, "text": text })),
    };
    Event::default().event(name).data(data.to_string())
}

fn last(request_id: &str, outcome: &Outcome) -> Event {
    match outcome {
        Ok(body) => Event::default().event("result").data(body.to_string()),
        Err(e) => Event::default().event("error").data(
            json!({
                "error": { "code": e.code, "message": e.message, "request_id": request_id },
                "status": e.status.as_u16(),
            })
            .to_string(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_flag_wins_over_the_accept_header() {
        let mut h = HeaderMap::new();
        assert!(!wanted(None, &h));
        h.insert(
            header::ACCEPT,
            "application/json, text/event-stream".parse().unwrap(),
        );
        assert!(wanted(None, &h));
        assert!(!wanted(Some(false), &h));
        assert!(wanted(Some(true), &HeaderMap::new()));
    }
}
