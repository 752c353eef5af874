//! A fragmented-MP4 (CMAF) writer for live streams: an init segment (`ftyp` + `moov`) and
//! fragments (`moof` + `mdat`) made of encoded samples that arrive one by one.
//!
//! Why Kino writes these bytes itself: a low-latency HLS part is one fragment, cut exactly
//! where the packager decides (a part every second, a segment at a keyframe), and Debian's
//! GStreamer has no CMAF muxer that cuts on demand. The boxes are the few CMAF needs
//! (ISO/IEC 14496-12 and 14496-15): H.264 in `avc1`/`avcC`, AAC in `mp4a`/`esds`, one `traf`
//! per track, `tfdt` with 64-bit decode times and a `trun` with durations, sizes, flags and
//! signed composition offsets. Pure: bytes in, bytes out.

/// What a video track's sample entry needs: the size and the `avcC` record (H.264 codec data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoTrack {
    pub width: u32,
    pub height: u32,
    pub avcc: Vec<u8>,
}

/// What an audio track's sample entry needs: AAC's AudioSpecificConfig and its shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioTrack {
    pub sample_rate: u32,
    pub channels: u32,
    pub config: Vec<u8>,
}

/// Video decode times are in 1/90000 s, as in MPEG-TS and most CMAF.
pub const VIDEO_TIMESCALE: u32 = 90_000;
/// Track ids in every init segment: video first, then audio.
pub const VIDEO_TRACK_ID: u32 = 1;
pub const AUDIO_TRACK_ID: u32 = 2;

/// One encoded sample (an access unit or an audio frame) in its track's timescale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    pub data: bytes::Bytes,
    pub duration: u32,
    /// Presentation time minus decode time.
    pub composition_offset: i32,
    pub keyframe: bool,
}

/// The samples of one track in one fragment, from `base_decode_time` on.
#[derive(Debug, Clone, Copy)]
pub struct Run<'a> {
    pub track_id: u32,
    pub base_decode_time: u64,
    pub samples: &'a [Sample],
}

/// RFC 6381 codec string of an `avcC` record (`avc1.64001f`).
pub fn avc_codec(avcc: &[u8]) -> Option<String> {
    (avcc.len() >= 4 && avcc[0] == 1)
        .then(|| format!("avc1.{:02x}{:02x}{:02x}", avcc[1], avcc[2], avcc[3]))
}

/// RFC 6381 codec string of an AAC AudioSpecificConfig (`mp4a.40.2`).
pub fn aac_codec(config: &[u8]) -> String {
    let object_type = config.first().map_or(2, |b| b >> 3);
    format!("mp4a.40.{object_type}")
}

/// `ftyp` + `moov` for the tracks present (at least one).
pub fn init_segment(video: Option<&VideoTrack>, audio: Option<&AudioTrack>) -> Vec<u8> {
    let mut out = Vec::new();
    bx(&mut out, b"ftyp", |b| {
        b.extend_from_slice(b"iso6");
        u32be(b, 0);
        for brand in [b"iso6", b"cmfc", b"mp41", b"dash"] {
            b.extend_from_slice(brand);
        }
    });
    bx(&mut out, b"moov", |b| {
        full(b, b"mvhd", 0, 0, |b| {
            u32be(b, 0); // creation
            u32be(b, 0); // modification
            u32be(b, 1000); // timescale
            u32be(b, 0); // duration: unknown, fragments follow
            u32be(b, 0x0001_0000); // rate 1.0
            u16be(b, 0x0100); // volume 1.0
            b.extend_from_slice(&[0; 10]);
            matrix(b);
            b.extend_from_slice(&[0; 24]);
            u32be(b, AUDIO_TRACK_ID + 1); // next track id
        });
        if let Some(v) = video {
            video_trak(b, v);
        }
        if let Some(a) = audio {
            audio_trak(b, a);
        }
        bx(b, b"mvex", |b| {
            for (present, id) in [
                (video.is_some(), VIDEO_TRACK_ID),
                (audio.is_some(), AUDIO_TRACK_ID),
            ] {
                if present {
                    full(b, b"trex", 0, 0, |b| {
                        u32be(b, id);
                        u32be(b, 1); // sample description index
                        u32be(b, 0);
                        u32be(b, 0);
                        u32be(b, 0);
                    });
                }
            }
        });
    });
    out
}

/// One fragment: `moof` with a `traf` per non-empty run, then one `mdat` with their samples
/// in the same order.
pub fn fragment(sequence: u32, runs: &[Run<'_>]) -> Vec<u8> {
    let runs: Vec<&Run<'_>> = runs.iter().filter(|r| !r.samples.is_empty()).collect();
    // The `trun` data offsets point into the `mdat`, after the `moof`: write the `moof`
    // once to learn its size (offsets have a fixed width, so the size does not change).
    let moof = |offsets: &[u32]| {
        let mut b = Vec::new();
        bx(&mut b, b"moof", |b| {
            full(b, b"mfhd", 0, 0, |b| u32be(b, sequence));
            for (run, offset) in runs.iter().zip(offsets) {
                traf(b, run, *offset);
            }
        });
        b
    };
    let moof_len = moof(&vec![0; runs.len()]).len();
    let mut offsets = Vec::with_capacity(runs.len());
    let mut at = moof_len + 8;
    for run in &runs {
        offsets.push(u32::try_from(at).unwrap_or(u32::MAX));
        at += run.samples.iter().map(|s| s.data.len()).sum::<usize>();
    }
    let mut out = moof(&offsets);
    let mdat_len = at - moof_len;
    u32be(&mut out, u32::try_from(mdat_len).unwrap_or(u32::MAX));
    out.extend_from_slice(b"mdat");
    for run in &runs {
        for s in run.samples {
            out.extend_from_slice(&s.data);
        }
    }
    out
}

fn traf(b: &mut Vec<u8>, run: &Run<'_>, data_offset: u32) {
    bx(b, b"traf", |b| {
        // default-base-is-moof: offsets count from the start of the `moof`.
        full(b, b"tfhd", 0, 0x02_0000, |b| u32be(b, run.track_id));
        full(b, b"tfdt", 1, 0, |b| {
            b.extend_from_slice(&run.base_decode_time.to_be_bytes());
        });
        // data offset, sample duration, size, flags and composition offset present.
        full(b, b"trun", 1, 0x000F01, |b| {
            u32be(b, u32::try_from(run.samples.len()).unwrap_or(u32::MAX));
            u32be(b, data_offset);
            for s in run.samples {
                u32be(b, s.duration);
                u32be(b, u32::try_from(s.data.len()).unwrap_or(u32::MAX));
                // sample_depends_on = 2 (an I-frame) for sync samples; otherwise
                // depends_on = 1 and sample_is_non_sync_sample.
                u32be(b, if s.keyframe { 0x0200_0000 } else { 0x0101_0000 });
                b.extend_from_slice(&s.composition_offset.to_be_bytes());
            }
        });
    });
}

fn video_trak(b: &mut Vec<u8>, v: &VideoTrack) {
    bx(b, b"trak", |b| {
        tkhd(b, VIDEO_TRACK_ID, 0, v.width, v.height);
        bx(b, b"mdia", |b| {
            mdhd(b, VIDEO_TIMESCALE);
            hdlr(b, b"vide", "VideoHandler");
            bx(b, b"minf", |b| {
                full(b, b"vmhd", 0, 1, |b| b.extend_from_slice(&[0; 8]));
                dinf(b);
                stbl(b, |b| {
                    bx(b, b"avc1", |b| {
                        b.extend_from_slice(&[0; 6]);
                        u16be(b, 1); // data reference index
                        b.extend_from_slice(&[0; 16]);
                        u16be(b, u16::try_from(v.width).unwrap_or(u16::MAX));
                        u16be(b, u16::try_from(v.height).unwrap_or(u16::MAX));
                        u32be(b, 0x0048_0000); // 72 dpi
                        u32be(b, 0x0048_0000);
                        u32be(b, 0);
                        u16be(b, 1); // frame count
                        b.extend_from_slice(&[0; 32]); // compressor name
                        u16be(b, 0x0018); // depth
                        b.extend_from_slice(&[0xff, 0xff]); // pre-defined -1
                        bx(b, b"avcC", |b| b.extend_from_slice(&v.avcc));
                    });
                });
            });
        });
    });
}

fn audio_trak(b: &mut Vec<u8>, a: &AudioTrack) {
    bx(b, b"trak", |b| {
        tkhd(b, AUDIO_TRACK_ID, 0x0100, 0, 0);
        bx(b, b"mdia", |b| {
            mdhd(b, a.sample_rate);
            hdlr(b, b"soun", "SoundHandler");
            bx(b, b"minf", |b| {
                full(b, b"smhd", 0, 0, |b| u32be(b, 0));
                dinf(b);
                stbl(b, |b| {
                    bx(b, b"mp4a", |b| {
                        b.extend_from_slice(&[0; 6]);
                        u16be(b, 1); // data reference index
                        b.extend_from_slice(&[0; 8]);
                        u16be(b, u16::try_from(a.channels).unwrap_or(2));
                        u16be(b, 16); // sample size
                        u32be(b, 0);
                        u32be(b, a.sample_rate.min(0xffff) << 16);
                        full(b, b"esds", 0, 0, |b| esds(b, &a.config));
                    });
                });
            });
        });
    });
}

/// The MPEG-4 elementary stream descriptor of an AAC track.
fn esds(b: &mut Vec<u8>, config: &[u8]) {
    let specific = descriptor(0x05, config);
    let mut decoder = vec![0x40, 0x15]; // MPEG-4 audio, audio stream
    decoder.extend_from_slice(&[0, 0, 0]); // buffer size
    decoder.extend_from_slice(&[0; 8]); // max and average bit rate: unknown
    decoder.extend_from_slice(&specific);
    let mut es = vec![0, 0, 0]; // ES id 0, no flags
    es.extend_from_slice(&descriptor(0x04, &decoder));
    es.extend_from_slice(&descriptor(0x06, &[0x02])); // SL config: MP4
    b.extend_from_slice(&descriptor(0x03, &es));
}

fn descriptor(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = u32::try_from(body.len()).unwrap_or(0x0fff_ffff);
    // Four-byte size form, valid for any length.
    out.extend_from_slice(&[
        0x80 | ((len >> 21) & 0x7f) as u8,
        0x80 | ((len >> 14) & 0x7f) as u8,
        0x80 | ((len >> 7) & 0x7f) as u8,
        (len & 0x7f) as u8,
    ]);
    out.extend_from_slice(body);
    out
}

fn tkhd(b: &mut Vec<u8>, id: u32, volume: u16, width: u32, height: u32) {
    // enabled, in movie, in preview
    full(b, b"tkhd", 0, 3, |b| {
        u32be(b, 0);
        u32be(b, 0);
        u32be(b, id);
        u32be(b, 0);
        u32be(b, 0); // duration
        b.extend_from_slice(&[0; 8]);
        u16be(b, 0); // layer
        u16be(b, 0); // alternate group
        u16be(b, volume);
        u16be(b, 0);
        matrix(b);
        u32be(b, width << 16);
        u32be(b, height << 16);
    });
}

fn mdhd(b: &mut Vec<u8>, timescale: u32) {
    full(b, b"mdhd", 0, 0, |b| {
        u32be(b, 0);
        u32be(b, 0);
        u32be(b, timescale);
        u32be(b, 0);
        u16be(b, 0x55c4); // language "und"
        u16be(b, 0);
    });
}

fn hdlr(b: &mut Vec<u8>, kind: &[u8; 4], name: &str) {
    full(b, b"hdlr", 0, 0, |b| {
        u32be(b, 0);
        b.extend_from_slice(kind);
        b.extend_from_slice(&[0; 12]);
        b.extend_from_slice(name.as_bytes());
        b.push(0);
    });
}

fn dinf(b: &mut Vec<u8>) {
    bx(b, b"dinf", |b| {
        full(b, b"dref", 0, 0, |b| {
            u32be(b, 1);
            full(b, b"url ", 0, 1, |_| {}); // the data is in this file
        });
    });
}

/// A sample table with one sample entry and no samples (they are all in fragments).
fn stbl(b: &mut Vec<u8>, entry: impl FnOnce(&mut Vec<u8>)) {
    bx(b, b"stbl", |b| {
        full(b, b"stsd", 0, 0, |b| {
            u32be(b, 1);
            entry(b);
        });
        for kind in [b"stts", b"stsc", b"stco"] {
            full(b, kind, 0, 0, |b| u32be(b, 0));
        }
        full(b, b"stsz", 0, 0, |b| {
            u32be(b, 0);
            u32be(b, 0);
        });
    });
}

fn matrix(b: &mut Vec<u8>) {
    for v in [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] {
        u32be(b, v);
    }
}

/// Appends a box: size, type, then what `body` writes.
fn bx(out: &mut Vec<u8>, kind: &[u8; 4], body: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(kind);
    body(out);
    let len = u32::try_from(out.len() - start).unwrap_or(u32::MAX);
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
}

/// Appends a full box (with version and flags).
fn full(
    out: &mut Vec<u8>,
    kind: &[u8; 4],
    version: u8,
    flags: u32,
    body: impl FnOnce(&mut Vec<u8>),
) {
    bx(out, kind, |b| {
        u32be(b, (u32::from(version) << 24) | (flags & 0x00ff_ffff));
        body(b);
    });
}

fn u32be(b: &mut Vec<u8>, v: u32) {
    b.extend_from_slice(&v.to_be_bytes());
}

fn u16be(b: &mut Vec<u8>, v: u16) {
    b.extend_from_slice(&v.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The top-level boxes of `data`: (type, size).
    fn boxes(data: &[u8]) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        let mut at = 0;
        while at + 8 <= data.len() {
            let size =
                u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]) as usize;
            out.push((
                String::from_utf8_lossy(&data[at + 4..at + 8]).into_owned(),
                size,
            ));
            assert!(size >= 8, "a box of size {size}");
            at += size;
        }
        assert_eq!(at, data.len(), "the boxes fill the buffer exactly");
        out
    }

    fn sample(len: usize, key: bool) -> Sample {
        Sample {
            data: bytes::Bytes::from(vec![7; len]),
            duration: 3000,
            composition_offset: -1,
            keyframe: key,
        }
    }

    #[test]
    fn an_init_segment_is_ftyp_then_moov_with_both_tracks() {
        let v = VideoTrack {
            width: 640,
            height: 360,
            avcc: vec![1, 0x64, 0, 0x1f, 0xff, 0xe0, 0],
        };
        let a = AudioTrack {
            sample_rate: 48_000,
            channels: 2,
            config: vec![0x11, 0x90],
        };
        let init = init_segment(Some(&v), Some(&a));
        let kinds: Vec<String> = boxes(&init).into_iter().map(|b| b.0).collect();
        assert_eq!(kinds, ["ftyp", "moov"]);
        let text = String::from_utf8_lossy(&init);
        for inner in ["avc1", "avcC", "mp4a", "esds", "trex", "mvex"] {
            assert!(text.contains(inner), "{inner} missing");
        }
        assert_eq!(avc_codec(&v.avcc).as_deref(), Some("avc1.64001f"));
        assert_eq!(aac_codec(&a.config), "mp4a.40.2");
    }

    #[test]
    fn a_fragment_points_each_run_at_its_bytes_in_the_mdat() {
        let video = [sample(100, true), sample(50, false)];
        let audio = [sample(10, true)];
        let frag = fragment(
            7,
            &[
                Run {
                    track_id: 1,
                    base_decode_time: 90_000,
                    samples: &video,
                },
                Run {
                    track_id: 2,
                    base_decode_time: 48_000,
                    samples: &audio,
                },
            ],
        );
        let top = boxes(&frag);
        assert_eq!(top[0].0, "moof");
        assert_eq!(top[1], ("mdat".to_string(), 8 + 160));
        // The first trun's data offset is the moof's size plus the mdat header.
        let moof_len = top[0].1;
        let trun = frag.windows(4).position(|w| w == b"trun").unwrap_or(0);
        let offset = u32::from_be_bytes([
            frag[trun + 12],
            frag[trun + 13],
            frag[trun + 14],
            frag[trun + 15],
        ]) as usize;
        assert_eq!(offset, moof_len + 8);
    }

    #[test]
    fn empty_runs_are_left_out() {
        let video = [sample(10, true)];
        let frag = fragment(
            1,
            &[
                Run {
                    track_id: 1,
                    base_decode_time: 0,
                    samples: &video,
                },
                Run {
                    track_id: 2,
                    base_decode_time: 0,
                    samples: &[],
                },
            ],
        );
        assert_eq!(frag.windows(4).filter(|w| w == b"traf").count(), 1);
    }
}
