//! Embedding a colour profile in a WebP file (libav's WebP encoder drops it): the file
//! becomes the extended format — a `VP8X` chunk with the ICC flag, then `ICCP`, then the
//! image chunks as they were.

use super::dimensions;

const ICC_FLAG: u8 = 0x20;
const ALPHA_FLAG: u8 = 0x10;

/// The WebP `webp` with `icc` embedded; `None` when `webp` is not a WebP file it understands.
pub fn webp_with_icc(webp: &[u8], icc: &[u8]) -> Option<Vec<u8>> {
    if !webp.starts_with(b"RIFF") || webp.get(8..12) != Some(b"WEBP") || icc.is_empty() {
        return None;
    }
    let chunks = chunks(&webp[12..])?;
    if chunks.iter().any(|(id, _)| id == b"ICCP") {
        return Some(webp.to_vec());
    }
    let mut body = Vec::with_capacity(webp.len() + icc.len() + 32);
    match chunks.first() {
        Some(([b'V', b'P', b'8', b'X'], data)) => {
            let mut vp8x = data.to_vec();
            *vp8x.first_mut()? |= ICC_FLAG;
            put_chunk(&mut body, b"VP8X", &vp8x);
            put_chunk(&mut body, b"ICCP", icc);
            for (id, data) in &chunks[1..] {
                put_chunk(&mut body, id, data);
            }
        }
        _ => {
            let (w, h) = dimensions(webp)?;
            let alpha = chunks
                .iter()
                .any(|(id, data)| id == b"VP8L" && data.get(4).is_some_and(|b| b & 0x10 != 0));
            let mut vp8x = vec![ICC_FLAG | if alpha { ALPHA_FLAG } else { 0 }, 0, 0, 0];
            vp8x.extend_from_slice(&(w.checked_sub(1)?).to_le_bytes()[..3]);
            vp8x.extend_from_slice(&(h.checked_sub(1)?).to_le_bytes()[..3]);
            put_chunk(&mut body, b"VP8X", &vp8x);
            put_chunk(&mut body, b"ICCP", icc);
            for (id, data) in &chunks {
                put_chunk(&mut body, id, data);
            }
        }
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&u32::try_from(body.len() + 4).ok()?.to_le_bytes());
    out.extend_from_slice(b"WEBP");
    out.extend_from_slice(&body);
    Some(out)
}

fn chunks(mut rest: &[u8]) -> Option<Vec<([u8; 4], &[u8])>> {
    let mut out = Vec::new();
    while rest.len() >= 8 {
        let id: [u8; 4] = rest[..4].try_into().ok()?;
        let len = u32::from_le_bytes(rest[4..8].try_into().ok()?) as usize;
        let data = rest.get(8..8 + len)?;
        out.push((id, data));
        rest = rest.get((8 + len + (len & 1)).min(rest.len())..)?;
    }
    Some(out)
}

fn put_chunk(out: &mut Vec<u8>, id: &[u8], data: &[u8]) {
    out.extend_from_slice(id);
    out.extend_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn simple_vp8l(w: u32, h: u32, alpha: bool) -> Vec<u8> {
        let bits = (w - 1) | ((h - 1) << 14) | (u32::from(alpha) << 28);
        let mut data = vec![0x2f];
        data.extend_from_slice(&bits.to_le_bytes());
        data.push(0); // odd length: padded
        let mut body = Vec::new();
        put_chunk(&mut body, b"VP8L", &data);
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&u32::try_from(body.len() + 4).unwrap().to_le_bytes());
        out.extend_from_slice(b"WEBP");
        out.extend(body);
        out
    }

    #[test]
    fn a_simple_file_becomes_extended_with_the_profile() {
        let out = webp_with_icc(&simple_vp8l(300, 200, true), b"profile").unwrap();
        let c = chunks(&out[12..]).unwrap();
        let ids: Vec<&[u8]> = c.iter().map(|(id, _)| &id[..]).collect();
        assert_eq!(ids, [&b"VP8X"[..], b"ICCP", b"VP8L"]);
        assert_eq!(c[0].1[0], ICC_FLAG | ALPHA_FLAG);
        assert_eq!(&c[0].1[4..7], &299u32.to_le_bytes()[..3]);
        assert_eq!(&c[0].1[7..10], &199u32.to_le_bytes()[..3]);
        assert_eq!(c[1].1, b"profile");
        let riff = u32::from_le_bytes(out[4..8].try_into().unwrap()) as usize;
        assert_eq!(riff, out.len() - 8);
        assert_eq!(dimensions(&out), Some((300, 200)));
    }

    #[test]
    fn not_webp_is_none() {
        assert_eq!(webp_with_icc(b"RIFF\0\0\0\0WAVE", b"p"), None);
        assert_eq!(webp_with_icc(&simple_vp8l(2, 2, false)[..20], b"p"), None);
    }
}
