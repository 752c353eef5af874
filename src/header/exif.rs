//! The EXIF orientation tag (0x0112) of a still image, read from the first bytes of the file.
//!
//! libav applies no EXIF orientation (and exports it only for some JPEGs), so Kino reads it
//! itself: from a JPEG's APP1 `Exif` segment, a TIFF file's first directory, a WebP `EXIF`
//! chunk or a PNG `eXIf` chunk. Pure: bytes in, a value 1–8 out; anything malformed is `None`.

/// The orientation value (1–8) found in `head` (the file's first bytes), if any.
pub fn orientation(head: &[u8]) -> Option<u8> {
    let tiff = if head.starts_with(&[0xFF, 0xD8]) {
        jpeg_exif(head)?
    } else if head.starts_with(b"II*\0") || head.starts_with(b"MM\0*") {
        head
    } else if head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WEBP") {
        riff_chunk(head, b"EXIF")?
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        png_chunk(head, b"eXIf")?
    } else {
        return None;
    };
    tiff_orientation(tiff).filter(|o| (1..=8).contains(o))
}

/// The TIFF structure inside a JPEG's `Exif` APP1 segment.
fn jpeg_exif(data: &[u8]) -> Option<&[u8]> {
    let mut at = 2;
    while at + 4 <= data.len() {
        if data[at] != 0xFF {
            return None;
        }
        let marker = data[at + 1];
        if marker == 0xD8 || marker == 0x01 || (0xD0..=0xD7).contains(&marker) {
            at += 2;
            continue;
        }
        if marker == 0xDA || marker == 0xD9 {
            return None; // image data starts: no EXIF before it
        }
        let len = usize::from(u16::from_be_bytes([data[at + 2], data[at + 3]]));
        let body = data.get(at + 4..at + 2 + len)?;
        if marker == 0xE1 && body.starts_with(b"Exif\0\0") {
            return Some(&body[6..]);
        }
        at += 2 + len;
    }
    None
}

fn riff_chunk<'a>(data: &'a [u8], id: &[u8; 4]) -> Option<&'a [u8]> {
    let mut at = 12;
    while at + 8 <= data.len() {
        let len = u32::from_le_bytes(data[at + 4..at + 8].try_into().ok()?) as usize;
        if &data[at..at + 4] == id {
            let body = data.get(at + 8..at + 8 + len)?;
            // Some writers keep the JPEG-style prefix.
            return Some(body.strip_prefix(b"Exif\0\0").unwrap_or(body));
        }
        at += 8 + len + (len & 1);
    }
    None
}

fn png_chunk<'a>(data: &'a [u8], id: &[u8; 4]) -> Option<&'a [u8]> {
    let mut at = 8;
    while at + 8 <= data.len() {
        let len = u32::from_be_bytes(data[at..at + 4].try_into().ok()?) as usize;
        let kind = &data[at + 4..at + 8];
        if kind == id {
            return data.get(at + 8..at + 8 + len);
        }
        if kind == b"IDAT" {
            return None;
        }
        at += 12 + len;
    }
    None
}

/// Byte order of a TIFF structure: little-endian (`II`) or not (`MM`).
fn little_endian(t: &[u8]) -> Option<bool> {
    match t.get(0..2)? {
        b"II" => Some(true),
        b"MM" => Some(false),
        _ => None,
    }
}

/// Where a TIFF file's first directory starts. Writers may put it after the pixels, beyond
/// the head the caller read; then the caller reads it there and calls [`orientation_in`].
pub fn tiff_directory(head: &[u8]) -> Option<u64> {
    if !(head.starts_with(b"II*\0") || head.starts_with(b"MM\0*")) {
        return None;
    }
    directory_offset(head)
}

fn directory_offset(t: &[u8]) -> Option<u64> {
    let b: [u8; 4] = t.get(4..8)?.try_into().ok()?;
    Some(u64::from(if little_endian(t)? {
        u32::from_le_bytes(b)
    } else {
        u32::from_be_bytes(b)
    }))
}

/// Reads tag 0x0112 from the first directory of a TIFF structure held whole in `t`.
fn tiff_orientation(t: &[u8]) -> Option<u8> {
    let at = usize::try_from(directory_offset(t)?).ok()?;
    orientation_in(t, t.get(at..)?)
}

/// The orientation in a TIFF directory (`dir`, read from its offset); `header` is the start
/// of the TIFF structure (for its byte order).
pub fn orientation_in(header: &[u8], dir: &[u8]) -> Option<u8> {
    let little = little_endian(header)?;
    let u16_at = |i: usize| -> Option<u16> {
        let b: [u8; 2] = dir.get(i..i + 2)?.try_into().ok()?;
        Some(if little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    };
    let entries = usize::from(u16_at(0)?);
    (0..entries.min(512))
        .find_map(|i| {
            let e = 2 + i * 12;
            // Tag 0x0112, type SHORT: the value sits in the entry's first two value bytes.
            (u16_at(e)? == 0x0112 && u16_at(e + 2)? == 3).then(|| u16_at(e + 8))?
        })
        .and_then(|v| u8::try_from(v).ok())
        .filter(|o| (1..=8).contains(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiff(little: bool, value: u16) -> Vec<u8> {
        let mut t = Vec::new();
        let w16 = |v: u16| {
            if little {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            }
        };
        let w32 = |v: u32| {
            if little {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            }
        };
        t.extend_from_slice(if little { b"II" } else { b"MM" });
        t.extend_from_slice(&w16(42));
        t.extend_from_slice(&w32(8));
        t.extend_from_slice(&w16(2));
        // An unrelated entry, then orientation.
        t.extend_from_slice(&w16(0x010F));
        t.extend_from_slice(&w16(2));
        t.extend_from_slice(&w32(4));
        t.extend_from_slice(&w32(0));
        t.extend_from_slice(&w16(0x0112));
        t.extend_from_slice(&w16(3));
        t.extend_from_slice(&w32(1));
        t.extend_from_slice(&w16(value));
        t.extend_from_slice(&[0, 0]);
        t.extend_from_slice(&w32(0));
        t
    }

    fn jpeg(exif: &[u8]) -> Vec<u8> {
        let mut j = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0];
        let len = u16::try_from(exif.len() + 8).unwrap();
        j.extend_from_slice(&[0xFF, 0xE1]);
        j.extend_from_slice(&len.to_be_bytes());
        j.extend_from_slice(b"Exif\0\0");
        j.extend_from_slice(exif);
        j.extend_from_slice(&[0xFF, 0xDA, 0, 2]);
        j
    }

    #[test]
    fn jpeg_tiff_webp_and_png_carriers() {
        assert_eq!(orientation(&jpeg(&tiff(true, 6))), Some(6));
        assert_eq!(orientation(&jpeg(&tiff(false, 8))), Some(8));
        assert_eq!(orientation(&tiff(false, 3)), Some(3));
        let exif = tiff(true, 5);
        let mut webp = b"RIFF\0\0\0\0WEBPEXIF".to_vec();
        webp.extend_from_slice(&u32::try_from(exif.len()).unwrap().to_le_bytes());
        webp.extend_from_slice(&exif);
        assert_eq!(orientation(&webp), Some(5));
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend_from_slice(&u32::try_from(exif.len()).unwrap().to_be_bytes());
        png.extend_from_slice(b"eXIf");
        png.extend_from_slice(&exif);
        assert_eq!(orientation(&png), Some(5));
    }

    #[test]
    fn garbage_is_none_never_a_panic() {
        assert_eq!(orientation(&jpeg(&tiff(true, 9))), None);
        assert_eq!(orientation(b""), None);
        assert_eq!(orientation(&[0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF]), None);
        let mut cut = jpeg(&tiff(true, 6));
        cut.truncate(30);
        assert_eq!(orientation(&cut), None);
        assert_eq!(orientation(b"II*\0\xff\xff\xff\xff"), None);
        for n in 0..64 {
            let mut bytes = jpeg(&tiff(n % 2 == 0, 6));
            let i = (n * 7) % bytes.len();
            bytes[i] ^= 0xA5;
            let _ = orientation(&bytes);
        }
    }
}
