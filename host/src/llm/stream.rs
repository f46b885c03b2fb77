//! Streaming (contract §7): the events a streamed operation reports, the
//! sink they travel through, and the decoder of the server-sent events the
//! three providers stream their completions in.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use tokio::sync::mpsc;

use super::{ChatResponse, LlmError};

/// What a streamed operation reports before its result.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The plugin call began.
    Start {
        /// Plugin name.
        strategy: String,
        /// Plugin version.
        version: String,
    },
    /// LLM call `call` (1, 2, …) began.
    Llm {
        /// Its number within the request.
        call: u32,
    },
    /// Tokens of LLM call `call`, as the provider sent them.
    Delta {
        /// Its number within the request.
        call: u32,
        /// The text.
        text: String,
    },
}

/// Where a streamed request's events go; cheap to clone. Unbounded: a
/// completion is bounded by the provider answer cap, and the host must not
/// slow the provider down for a slow client.
#[derive(Debug, Clone)]
pub struct StreamSink {
    tx: mpsc::UnboundedSender<StreamEvent>,
    calls: Arc<AtomicU32>,
}

impl StreamSink {
    /// A sink and the receiving end of its events.
    pub fn new() -> (StreamSink, mpsc::UnboundedReceiver<StreamEvent>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            StreamSink {
                tx,
                calls: Arc::new(AtomicU32::new(0)),
            },
            rx,
        )
    }

    /// Report `event`; a client that went away is not an error here (the
    /// operation is cancelled by the HTTP layer).
    pub fn send(&self, event: StreamEvent) {
        let _ = self.tx.send(event);
    }

    /// Number and announce the next LLM call; its deltas go through the
    /// returned handle.
    pub fn begin_call(&self) -> Deltas {
        let call = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        self.send(StreamEvent::Llm { call });
        Deltas {
            sink: self.clone(),
            call,
        }
    }
}

/// The deltas of one LLM call.
#[derive(Debug, Clone)]
pub struct Deltas {
    sink: StreamSink,
    call: u32,
}

impl Deltas {
    /// Forward `text` (nothing for an empty piece).
    pub fn send(&self, text: &str) {
        if !text.is_empty() {
            self.sink.send(StreamEvent::Delta {
                call: self.call,
                text: text.to_string(),
            });
        }
    }
}

/// One server-sent event: its `event:` name (if any) and its `data:` lines joined.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

/// Splits a byte stream into server-sent events (the `text/event-stream`
/// format: fields per line, an empty line ends an event; `\n`, `\r\n` or
/// `\r` end lines). Bytes of an incomplete event are kept for the next push.
#[derive(Default)]
pub(crate) struct SseDecoder {
    buf: Vec<u8>,
    event: Option<String>,
    data: Vec<String>,
}

impl SseDecoder {
    /// Feed `bytes`; the events they completed.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut start = 0;
        let mut i = 0;
        while i < self.buf.len() {
            let b = self.buf[i];
            if b == b'\n' || b == b'\r' {
                // A lone \r at the end may be half of \r\n: wait for more.
                if b == b'\r' && i + 1 == self.buf.len() {
                    break;
                }
                let line = String::from_utf8_lossy(&self.buf[start..i]).into_owned();
                let step = if b == b'\r' && self.buf.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
                i += step;
                start = i;
                self.line(&line, &mut out);
                continue;
            }
            i += 1;
        }
        self.buf.drain(..start);
        out
    }

    /// The event left when the stream ends without a final empty line.
    pub fn finish(&mut self) -> Option<SseEvent> {
        let rest = std::mem::take(&mut self.buf);
        let mut out = Vec::new();
        if !rest.is_empty() {
            self.line(&String::from_utf8_lossy(&rest), &mut out);
        }
        self.line("", &mut out);
        out.pop()
    }

    fn line(&mut self, line: &str, out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            if !self.data.is_empty() || self.event.is_some() {
                out.push(SseEvent {
                    event: self.event.take(),
                    data: std::mem::take(&mut self.data).join("\n"),
                });
            }
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "data" => self.data.push(value.to_string()),
            "event" => self.event = Some(value.to_string()),
            _ => {}
        }
    }
}

/// A provider's streamed answer, read one event at a time.
pub(crate) trait StreamParse: Send {
    /// One event; returns the completion text it carries, if any.
    fn event(&mut self, event: &SseEvent) -> Result<Option<String>, LlmError>;
    /// Whether the provider said the answer is complete.
    fn done(&self) -> bool;
    /// The whole answer, once the stream ended.
    fn finish(self: Box<Self>) -> Result<ChatResponse, LlmError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_across_pushes_and_line_endings() {
        let mut d = SseDecoder::default();
        assert!(d.push(b"event: a\r\nda").is_empty());
        let got = d.push(b"ta: {\"x\":1}\r\n\r\n: comment\n\ndata: one\ndata: two\r");
        assert_eq!(
            got,
            vec![SseEvent {
                event: Some("a".into()),
                data: "{\"x\":1}".into()
            }]
        );
        let got = d.push(b"\n\ndata:[DONE]\n\n");
        assert_eq!(got[0].data, "one\ntwo");
        assert_eq!(got[1].data, "[DONE]");
        assert!(d.push(b"data: tail").is_empty());
        assert_eq!(d.finish().map(|e| e.data), Some("tail".into()));
    }

    #[test]
    fn calls_are_numbered_and_empty_deltas_dropped() {
        let (sink, mut rx) = StreamSink::new();
        let first = sink.begin_call();
        first.send("");
        first.send("hi");
        let second = sink.begin_call();
        second.send("x");
        let mut got = Vec::new();
        while let Ok(e) = rx.try_recv() {
            got.push(e);
        }
        assert_eq!(
            got,
            vec![
                StreamEvent::Llm { call: 1 },
                StreamEvent::Delta {
                    call: 1,
                    text: "hi".into()
                },
                StreamEvent::Llm { call: 2 },
                StreamEvent::Delta {
                    call: 2,
                    text: "x".into()
                },
            ]
        );
    }
}
