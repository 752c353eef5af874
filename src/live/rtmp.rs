//! RTMP ingest: a server for encoders (OBS, ffmpeg) publishing to
//! `rtmp://{host}:{port}/streams/{stream_key}`.
//!
//! `rml_rtmp` speaks the protocol (handshake, chunk streams, AMF commands); this module only
//! moves bytes, admits the publish request by its stream key and wraps each audio and video
//! message as an FLV tag for the session's demuxer. Anything that is not a well-behaved
//! publisher (garbage, a player, a second publish, a wrong key) is answered with an error
//! status where the protocol has one, then disconnected; other sessions never notice.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use rml_rtmp::handshake::{Handshake, HandshakeProcessResult, PeerType};
use rml_rtmp::sessions::{
    ServerSession, ServerSessionConfig, ServerSessionEvent, ServerSessionResult,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::{Container, Gate, Live, Session};

/// A connection must finish the handshake and ask to publish within this time.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts publishers until the listener fails.
pub async fn serve(listener: TcpListener, live: Live, gate: Arc<dyn Gate>) {
    loop {
        match listener.accept().await {
            Ok((socket, peer)) => {
                let live = live.clone();
                let gate = gate.clone();
                tokio::spawn(async move {
                    if let Err(e) = connection(socket, &live, &gate).await {
                        tracing::info!(%peer, error = e, "rtmp connection closed");
                    }
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "rtmp accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn connection(
    mut socket: TcpStream,
    live: &Live,
    gate: &Arc<dyn Gate>,
) -> Result<(), String> {
    let _ = socket.set_nodelay(true);
    let leftover = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake(&mut socket))
        .await
        .map_err(|_| "no RTMP handshake in time".to_string())??;
    let (mut rtmp, first) =
        ServerSession::new(ServerSessionConfig::new()).map_err(|e| e.to_string())?;
    let mut conn = Connection {
        rtmp: &mut rtmp,
        publisher: None,
        live,
        gate,
        closing: None,
    };
    let mut pending: VecDeque<ServerSessionResult> = first.into();
    let outcome = match conn.rtmp.handle_input(&leftover) {
        Ok(results) => {
            pending.extend(results);
            conn.run(&mut socket, pending).await
        }
        Err(e) => Err(e.to_string()),
    };
    // However the connection ends, a session it started ends with it.
    if let Some(p) = &conn.publisher {
        p.end("the publisher disconnected");
    }
    outcome
}

/// Waits for the session's end (forever when there is no session).
async fn stopped(stop: Option<tokio::sync::watch::Receiver<Option<String>>>) -> String {
    let Some(mut stop) = stop else {
        return std::future::pending().await;
    };
    loop {
        if let Some(reason) = stop.borrow_and_update().clone() {
            return reason;
        }
        if stop.changed().await.is_err() {
            return "the session is gone".into();
        }
    }
}

/// Runs the server side of the handshake; returns the bytes that followed it.
async fn handshake(socket: &mut TcpStream) -> Result<Vec<u8>, String> {
    let mut handshake = Handshake::new(PeerType::Server);
    let mut buf = vec![0u8; 8 * 1024];
    loop {
        let n = socket.read(&mut buf).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("closed during the handshake".into());
        }
        match handshake
            .process_bytes(&buf[..n])
            .map_err(|e| format!("not an RTMP handshake: {e:?}"))?
        {
            HandshakeProcessResult::InProgress { response_bytes } => {
                socket
                    .write_all(&response_bytes)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            HandshakeProcessResult::Completed {
                response_bytes,
                remaining_bytes,
            } => {
                socket
                    .write_all(&response_bytes)
                    .await
                    .map_err(|e| e.to_string())?;
                return Ok(remaining_bytes);
            }
        }
    }
}

struct Connection<'a> {
    rtmp: &'a mut ServerSession,
    publisher: Option<Arc<Session>>,
    live: &'a Live,
    gate: &'a Arc<dyn Gate>,
    /// Set when the connection must close after the responses are written.
    closing: Option<String>,
}

impl Connection<'_> {
    /// Serves the connection until it closes, fails or its session ends.
    async fn run(
        &mut self,
        socket: &mut TcpStream,
        first: VecDeque<ServerSessionResult>,
    ) -> Result<(), String> {
        self.drain(socket, first).await?;
        let mut buf = vec![0u8; 64 * 1024];
        let deadline = tokio::time::Instant::now() + HANDSHAKE_TIMEOUT;
        loop {
            if let Some(why) = self.closing.take() {
                return Err(why);
            }
            let stop = self.publisher.as_ref().map(|p| p.stopped());
            let publishing = self.publisher.is_some();
            let read = async {
                if publishing {
                    socket.read(&mut buf).await.map_err(|e| e.to_string())
                } else {
                    tokio::time::timeout_at(deadline, socket.read(&mut buf))
                        .await
                        .map_err(|_| "no publish request in time".to_string())?
                        .map_err(|e| e.to_string())
                }
            };
            let n = tokio::select! {
                n = read => n?,
                reason = stopped(stop) => return Err(format!("session ended: {reason}")),
            };
            if n == 0 {
                return Ok(());
            }
            let results = self
                .rtmp
                .handle_input(&buf[..n])
                .map_err(|e| e.to_string())?;
            self.drain(socket, results.into()).await?;
        }
    }

    /// Writes responses and acts on events, including the results they cause.
    async fn drain(
        &mut self,
        socket: &mut TcpStream,
        mut pending: VecDeque<ServerSessionResult>,
    ) -> Result<(), String> {
        while let Some(result) = pending.pop_front() {
            match result {
                ServerSessionResult::OutboundResponse(packet) => {
                    socket
                        .write_all(&packet.bytes)
                        .await
                        .map_err(|e| e.to_string())?;
                }
                ServerSessionResult::RaisedEvent(event) => {
                    pending.extend(self.event(event).await?);
                }
                ServerSessionResult::UnhandleableMessageReceived(_) => {}
            }
        }
        Ok(())
    }

    async fn event(
        &mut self,
        event: ServerSessionEvent,
    ) -> Result<Vec<ServerSessionResult>, String> {
        let rtmp_err = |e: rml_rtmp::sessions::ServerSessionError| e.to_string();
        match event {
            ServerSessionEvent::ConnectionRequested { request_id, .. } => {
                self.rtmp.accept_request(request_id).map_err(rtmp_err)
            }
            ServerSessionEvent::PublishStreamRequested {
                request_id,
                stream_key,
                ..
            } => {
                if self.publisher.is_some() {
                    self.closing = Some("a second publish on one connection".into());
                    return self
                        .rtmp
                        .reject_request(
                            request_id,
                            "NetStream.Publish.BadName",
                            "already publishing",
                        )
                        .map_err(rtmp_err);
                }
                match self
                    .live
                    .begin(self.gate, &stream_key, Container::Flv)
                    .await
                {
                    Ok(session) => {
                        session.push(flv_header());
                        self.publisher = Some(session);
                        self.rtmp.accept_request(request_id).map_err(rtmp_err)
                    }
                    Err(refused) => {
                        tracing::info!(reason = %refused, "rtmp publish refused");
                        self.closing = Some(format!("publish refused: {refused}"));
                        self.rtmp
                            .reject_request(
                                request_id,
                                "NetStream.Publish.BadName",
                                &refused.to_string(),
                            )
                            .map_err(rtmp_err)
                    }
                }
            }
            ServerSessionEvent::PlayStreamRequested { request_id, .. } => {
                self.closing = Some("playing over RTMP is not offered".into());
                self.rtmp
                    .reject_request(
                        request_id,
                        "NetStream.Play.Failed",
                        "play the HLS output instead",
                    )
                    .map_err(rtmp_err)
            }
            ServerSessionEvent::VideoDataReceived {
                data, timestamp, ..
            } => {
                self.forward(9, timestamp.value, &data);
                Ok(Vec::new())
            }
            ServerSessionEvent::AudioDataReceived {
                data, timestamp, ..
            } => {
                self.forward(8, timestamp.value, &data);
                Ok(Vec::new())
            }
            ServerSessionEvent::PublishStreamFinished { .. } => {
                if let Some(p) = &self.publisher {
                    p.end("the publisher stopped");
                }
                Ok(Vec::new())
            }
            _ => Ok(Vec::new()),
        }
    }

    fn forward(&mut self, kind: u8, timestamp: u32, data: &[u8]) {
        if let Some(p) = &self.publisher
            && !p.push(flv_tag(kind, timestamp, data))
        {
            self.closing = Some("the session no longer takes input".into());
        }
    }
}

/// The FLV file header (audio and video) and the first previous-tag-size.
fn flv_header() -> Vec<u8> {
    vec![b'F', b'L', b'V', 1, 0x05, 0, 0, 0, 9, 0, 0, 0, 0]
}

/// One FLV tag: header, payload, then the tag's size.
fn flv_tag(kind: u8, timestamp: u32, data: &[u8]) -> Vec<u8> {
    let len = u32::try_from(data.len())
        .unwrap_or(0x00ff_ffff)
        .min(0x00ff_ffff);
    let mut tag = Vec::with_capacity(data.len() + 15);
    tag.push(kind);
    tag.extend_from_slice(&len.to_be_bytes()[1..]);
    tag.extend_from_slice(&timestamp.to_be_bytes()[1..]);
    tag.push(timestamp.to_be_bytes()[0]);
    tag.extend_from_slice(&[0, 0, 0]);
    tag.extend_from_slice(&data[..len as usize]);
    tag.extend_from_slice(&(len + 11).to_be_bytes());
    tag
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_flv_tag_carries_its_size_and_extended_timestamp() {
        let tag = flv_tag(9, 0x0102_0304, b"abc");
        assert_eq!(tag[0], 9);
        assert_eq!(&tag[1..4], &[0, 0, 3]);
        assert_eq!(&tag[4..8], &[2, 3, 4, 1]);
        assert_eq!(&tag[11..14], b"abc");
        assert_eq!(&tag[14..], &14u32.to_be_bytes());
        assert_eq!(flv_header().len(), 13);
    }
}
