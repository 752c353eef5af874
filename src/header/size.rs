//! Picture dimensions from file headers: PNG (IHDR), GIF (logical screen), JPEG (the first
//! SOFn), WebP (VP8, VP8L, VP8X), BMP and the first TIFF directory.

/// The brands of an ISO-BMFF file (major, then compatible), from its `ftyp` box.
fn brands(head: &[u8]) -> Vec<&[u8]> {
    if head.get(4..8) != Some(b"ftyp") {
        return Vec::new();
    }
    let size = head
        .get(0..4)
        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .min(head.len());
    let mut out = Vec::new();
    if let Some(major) = head.get(8..12) {
        out.push(major);
    }
    let mut at = 16;
    while at + 4 <= size {
        out.push(&head[at..at + 4]);
        at += 4;
    }
    out
}

/// An AVIF picture (or AVIF sequence): an ISO-BMFF file with an `avif`/`avis` brand.
pub fn is_avif(head: &[u8]) -> bool {
    brands(head).iter().any(|b| *b == b"avif" || *b == b"avis")
}

/// A HEIF picture (HEIC from phones) that is not AVIF.
pub fn is_heif(head: &[u8]) -> bool {
    !is_avif(head)
        && brands(head).first().is_some_and(|b| {
            matches!(
                *b,
                b"heic" | b"heix" | b"heim" | b"heis" | b"mif1" | b"msf1"
            )
        })
}

/// Whether a WebP is animated (its `VP8X` header sets the animation flag).
pub fn is_animated_webp(head: &[u8]) -> bool {
    head.starts_with(b"RIFF")
        && head.get(8..16) == Some(b"WEBPVP8X")
        && head.get(20).is_some_and(|flags| flags & 0x02 != 0)
}

/// Width and height the header announces, if the format is known and the header intact.
pub fn dimensions(head: &[u8]) -> Option<(u32, u32)> {
    let be32 = |i: usize| Some(u32::from_be_bytes(head.get(i..i + 4)?.try_into().ok()?));
    let le16 = |i: usize| {
        Some(u32::from(u16::from_le_bytes(
            head.get(i..i + 2)?.try_into().ok()?,
        )))
    };
    let le24 = |i: usize| {
        let b = head.get(i..i + 3)?;
        Some(u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16)
    };
    if head.starts_with(b"\x89PNG\r\n\x1a\n") && head.get(12..16) == Some(b"IHDR") {
        return Some((be32(16)?, be32(20)?));
    }
    if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        return Some((le16(6)?, le16(8)?));
    }
    if head.starts_with(b"BM") {
        let w = i32::from_le_bytes(head.get(18..22)?.try_into().ok()?);
        let h = i32::from_le_bytes(head.get(22..26)?.try_into().ok()?);
        return Some((w.unsigned_abs(), h.unsigned_abs()));
    }
    if head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WEBP") {
        return match head.get(12..16)? {
            b"VP8X" => Some((le24(24)? + 1, le24(27)? + 1)),
            b"VP8L" => {
                let b = u32::from_le_bytes(head.get(21..25)?.try_into().ok()?);
                Some(((b & 0x3FFF) + 1, ((b >> 14) & 0x3FFF) + 1))
            }
            b"VP8 " => Some((le16(26)? & 0x3FFF, le16(28)? & 0x3FFF)),
            _ => None,
        };
    }
    if head.starts_with(&[0xFF, 0xD8]) {
        return jpeg_frame_size(head);
    }
    None
}

/// The size in the first start-of-frame marker (SOF0–SOF15 but DHT, JPG and DAC).
fn jpeg_frame_size(d: &[u8]) -> Option<(u32, u32)> {
    let mut at = 2;
    while at + 4 <= d.len() {
        if d[at] != 0xFF {
            return None;
        }
        let marker = d[at + 1];
        if marker == 0xFF {
            at += 1;
            continue;
        }
        if marker == 0xD8 || marker == 0x01 || (0xD0..=0xD7).contains(&marker) {
            at += 2;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([d[at + 2], d[at + 3]]));
        let is_sof = (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_sof {
            let h = u16::from_be_bytes(d.get(at + 5..at + 7)?.try_into().ok()?);
            let w = u16::from_be_bytes(d.get(at + 7..at + 9)?.try_into().ok()?);
            return Some((u32::from(w), u32::from(h)));
        }
        if marker == 0xDA {
            return None;
        }
        at += 2 + len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_from_headers() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&100_000u32.to_be_bytes());
        png.extend_from_slice(&7u32.to_be_bytes());
        assert_eq!(dimensions(&png), Some((100_000, 7)));
        let gif = b"GIF89a\x90\x01\x2c\x01";
        assert_eq!(dimensions(gif), Some((400, 300)));
        let jpeg = [
            0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0, 0xFF, 0xC2, 0, 11, 8, 0x01, 0xC2, 0x02, 0x58, 3,
        ];
        assert_eq!(dimensions(&jpeg), Some((600, 450)));
        assert_eq!(dimensions(b"hello"), None);
        assert_eq!(dimensions(&[0xFF, 0xD8, 0xFF]), None);
    }

    #[test]
    fn avif_and_heif_are_told_apart() {
        let ftyp = |major: &[u8], compatible: &[&[u8]]| {
            let mut v = u32::try_from(16 + 4 * compatible.len())
                .unwrap()
                .to_be_bytes()
                .to_vec();
            v.extend_from_slice(b"ftyp");
            v.extend_from_slice(major);
            v.extend_from_slice(&[0; 4]);
            for c in compatible {
                v.extend_from_slice(c);
            }
            v
        };
        assert!(is_avif(&ftyp(b"avif", &[b"mif1"])));
        assert!(is_avif(&ftyp(b"mif1", &[b"avif"])));
        assert!(!is_heif(&ftyp(b"mif1", &[b"avif"])));
        assert!(is_heif(&ftyp(b"heic", &[b"mif1"])));
        assert!(!is_heif(&ftyp(b"isom", &[b"mp41"])) && !is_avif(&ftyp(b"isom", &[])));
    }

    #[test]
    fn animated_webps_are_told_apart() {
        let mut webp = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0".to_vec();
        webp.push(0x12);
        assert!(is_animated_webp(&webp));
        webp[20] = 0x10;
        assert!(!is_animated_webp(&webp), "alpha only");
        assert!(!is_animated_webp(b"GIF89a"));
    }
}
