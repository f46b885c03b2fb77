//! A fake LLM provider at the TCP level, for faults a well-behaved HTTP
//! server library cannot produce: bodies cut short, connections dropped
//! mid-answer, bodies larger than declared or without end.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// What the fake does once it has read a request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Close the connection without a byte of answer.
    DropBeforeAnswer,
    /// Declare `Content-Length: declared`, send `sent` bytes of a valid-looking
    /// completion, then close.
    Truncated {
        /// Declared length.
        declared: usize,
        /// Bytes actually sent.
        sent: usize,
    },
    /// Send the status line and headers, then close mid-headers.
    DropMidHeaders,
    /// A complete answer whose declared length is `bytes` (sent in full).
    Huge {
        /// Body size.
        bytes: usize,
    },
    /// A chunked answer that never ends (chunks of 64 KiB until the peer
    /// hangs up).
    Endless,
    /// A complete, well-formed 200 whose body is cut-off JSON.
    HalfJson,
}

/// The running fake.
pub struct RawProvider {
    /// Base URL including `/v1`, for `Options::llm`.
    pub base_url: String,
    connections: Arc<AtomicUsize>,
    /// Connections whose handler has ended (answer sent, or the peer hung up).
    closed: Arc<AtomicUsize>,
    /// Bytes the fake managed to write, over all connections.
    pub written: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl RawProvider {
    /// Start a fake answering every request with `fault`.
    pub async fn start(fault: Fault) -> RawProvider {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        let connections = Arc::new(AtomicUsize::new(0));
        let written = Arc::new(AtomicUsize::new(0));
        let closed = Arc::new(AtomicUsize::new(0));
        let (c, w, d) = (
            Arc::clone(&connections),
            Arc::clone(&written),
            Arc::clone(&closed),
        );
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                c.fetch_add(1, Ordering::SeqCst);
                let (fault, w, d) = (fault.clone(), Arc::clone(&w), Arc::clone(&d));
                tokio::spawn(async move {
                    let _ = serve(stream, fault, w).await;
                    d.fetch_add(1, Ordering::SeqCst);
                });
            }
        });
        RawProvider {
            base_url: format!("http://{addr}/v1"),
            connections,
            closed,
            written,
            task,
        }
    }

    /// Connections accepted so far (one per attempt: each fault closes it).
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Connections whose handler has ended: for `Endless`, the host hung up.
    pub fn closed(&self) -> usize {
        self.closed.load(Ordering::SeqCst)
    }
}

impl Drop for RawProvider {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Read one request: headers, then `Content-Length` bytes of body.
async fn read_request(stream: &mut TcpStream) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Ok(());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok(());
        }
    }
}

fn completion_json() -> String {
    serde_json::json!({
        "id": "x", "object": "chat.completion", "model": "raw",
        "choices": [{ "index": 0, "finish_reason": "stop",
                      "message": { "role": "assistant", "content": "fine" } }],
        "usage": { "prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2 }
    })
    .to_string()
}

async fn serve(
    mut stream: TcpStream,
    fault: Fault,
    written: Arc<AtomicUsize>,
) -> std::io::Result<()> {
    read_request(&mut stream).await?;
    let send = |bytes: Vec<u8>| {
        written.fetch_add(bytes.len(), Ordering::SeqCst);
        bytes
    };
    match fault {
        Fault::DropBeforeAnswer => {}
        Fault::DropMidHeaders => {
            let b = send(b"HTTP/1.1 200 OK\r\ncontent-type: application/js".to_vec());
            stream.write_all(&b).await?;
        }
        Fault::Truncated { declared, sent } => {
            let body = completion_json().into_bytes();
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {declared}\r\n\r\n"
            );
            stream.write_all(&send(head.into_bytes())).await?;
            let sent = sent.min(body.len());
            stream.write_all(&send(body[..sent].to_vec())).await?;
        }
        Fault::HalfJson => {
            let body = completion_json();
            let half = &body[..body.len() / 2];
            let resp = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{half}",
                half.len()
            );
            stream.write_all(&send(resp.into_bytes())).await?;
        }
        Fault::Huge { bytes } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {bytes}\r\n\r\n"
            );
            stream.write_all(&send(head.into_bytes())).await?;
            let block = vec![b' '; 64 * 1024];
            let mut left = bytes;
            while left > 0 {
                let n = left.min(block.len());
                stream.write_all(&send(block[..n].to_vec())).await?;
                left -= n;
            }
        }
        Fault::Endless => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
            stream.write_all(&send(head.as_bytes().to_vec())).await?;
            let block = vec![b' '; 64 * 1024];
            let chunk = [
                format!("{:x}\r\n", block.len()).into_bytes(),
                block,
                b"\r\n".to_vec(),
            ]
            .concat();
            // Until the host hangs up (write fails) or a generous bound.
            for _ in 0..16_384 {
                stream.write_all(&send(chunk.clone())).await?;
            }
        }
    }
    stream.flush().await?;
    // Let the peer read what was sent before the close.
    tokio::time::sleep(Duration::from_millis(20)).await;
    Ok(())
}
