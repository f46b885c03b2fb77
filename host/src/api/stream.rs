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
    fut: Running<R>,
    mut events: mpsc::UnboundedReceiver<StreamEvent>,
    done: impl FnOnce(&Outcome, R) + Send + 'static,
    cancelled: impl FnOnce() + Send + 'static,
) -> Result<Response, (Outcome, R)> {
    let mut queue = VecDeque::new();
    let mut pending = Some(fut);
    let mut done: Option<Done<R>> = Some(Box::new(done));
    tokio::select! {
        biased;
        ev = events.recv() => {
            if let Some(ev) = ev {
                queue.push_back(event(&request_id, ev));
            }
        }
        out = async { match pending.as_mut() { Some(f) => f.await, None => std::future::pending().await } } => {
            pending = None;
            // A call that never pends (no LLM) starts and ends in one poll:
            // it started all the same, so it streams.
            let Ok(first) = events.try_recv() else {
                return Err(out);
            };
            queue.push_back(event(&request_id, first));
            while let Ok(ev) = events.try_recv() {
                queue.push_back(event(&request_id, ev));
            }
            queue.push_back(last(&request_id, &out.0));
            if let Some(d) = done.take() {
                d(&out.0, out.1);
            }
        }
    }
    let state = State {
        request_id,
        fut: pending,
        events,
        queue,
        done,
        cancelled: Some(Box::new(cancelled)),
    };
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
            (outcome, rest) = fut => {
                s.fut = None;
                // Events sent before the end come before the result.
                while let Ok(ev) = s.events.try_recv() {
                    s.queue.push_back(event(&s.request_id, ev));
                }
                s.queue.push_back(last(&s.request_id, &outcome));
                if let Some(done) = s.done.take() {
                    done(&outcome, rest);
                }
            }
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
