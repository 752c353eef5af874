//! SRT ingest: a listener for callers publishing MPEG-TS to
//! `srt://{host}:{port}?streamid={stream_key}`.
//!
//! `srt-tokio` (a Rust SRT) runs the listener because it hands each connection request over
//! before accepting it: the stream id is checked against the stream keys first, so a wrong
//! key is refused in the handshake (SRT's 2401) and many streams share one port. The stream id
//! is the bare key or the access-control form `#!::r={key},m=publish`.

use std::net::SocketAddr;
use std::sync::Arc;

use futures::StreamExt;
use srt_tokio::access::{RejectReason, ServerRejectReason};
use srt_tokio::options::PacketSize;
use srt_tokio::{ConnectionRequest, SrtListener};

use super::{Container, Gate, Live, Refused};

/// Binds the listener; returns it with its address, to serve with [`serve`].
pub async fn bind(
    address: &str,
) -> Result<(srt_tokio::SrtIncoming, SrtListener, SocketAddr), String> {
    let socket = std::net::UdpSocket::bind(address)
        .map_err(|e| format!("cannot listen for SRT on {address}: {e}"))?;
    let local = socket.local_addr().map_err(|e| e.to_string())?;
    socket.set_nonblocking(true).map_err(|e| e.to_string())?;
    let socket = tokio::net::UdpSocket::from_std(socket).map_err(|e| e.to_string())?;
    let (listener, incoming) = SrtListener::builder()
        .socket(socket)
        // libsrt peers send 1316-byte payloads (seven TS packets); announce room for them.
        .set(|o| o.sender.max_payload_size = PacketSize(1456))
        .bind(local)
        .await
        .map_err(|e| format!("cannot listen for SRT on {address}: {e}"))?;
    Ok((incoming, listener, local))
}

/// Serves connection requests until the listener closes.
pub async fn serve(
    mut incoming: srt_tokio::SrtIncoming,
    listener: SrtListener,
    live: Live,
    gate: Arc<dyn Gate>,
) {
    // The listener's task runs while this value lives.
    let _listener = listener;
    while let Some(request) = incoming.incoming().next().await {
        let live = live.clone();
        let gate = gate.clone();
        tokio::spawn(async move {
            let peer = request.remote();
            if let Err(e) = connection(request, &live, &gate).await {
                tracing::info!(%peer, error = e, "srt connection closed");
            }
        });
    }
}

async fn connection(
    request: ConnectionRequest,
    live: &Live,
    gate: &Arc<dyn Gate>,
) -> Result<(), String> {
    let key = request
        .stream_id()
        .map(|s| stream_key(s))
        .unwrap_or_default();
    let session = match live.begin(gate, &key, Container::MpegTs).await {
        Ok(s) => s,
        Err(refused) => {
            let reason = match refused {
                Refused::UnknownKey(_) => ServerRejectReason::Unauthorized,
                Refused::AlreadyPublishing => ServerRejectReason::Conflict,
                Refused::Failed(_) => ServerRejectReason::InternalServerError,
            };
            let _ = request.reject(RejectReason::Server(reason)).await;
            return Err(format!("publish refused: {refused}"));
        }
    };
    let outcome = async {
        let mut socket = request.accept(None).await.map_err(|e| e.to_string())?;
        let mut stop = session.stopped();
        loop {
            tokio::select! {
                packet = socket.next() => match packet {
                    Some(Ok((_, bytes))) => {
                        if !session.push(bytes.to_vec()) {
                            return Ok(());
                        }
                    }
                    Some(Err(e)) => return Err(e.to_string()),
                    None => return Ok(()),
                },
                changed = stop.changed() => {
                    if changed.is_err() || stop.borrow().is_some() {
                        return Ok(());
                    }
                }
            }
        }
    }
    .await;
    session.end("the publisher disconnected");
    outcome
}

/// The stream key in an SRT stream id: the bare key, or `r=` of `#!::r=…,m=publish`.
fn stream_key(stream_id: &str) -> String {
    match stream_id.strip_prefix("#!::") {
        Some(fields) => fields
            .split(',')
            .find_map(|f| f.strip_prefix("r="))
            .unwrap_or_default()
            .to_string(),
        None => stream_id.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_the_stream_id_or_its_resource() {
        assert_eq!(stream_key("abc123"), "abc123");
        assert_eq!(stream_key("#!::r=abc123,m=publish"), "abc123");
        assert_eq!(stream_key("#!::m=publish"), "");
    }
}
