//! Writing a PDF whose pages are JPEG pictures (what `multi` with `format=pdf` makes).
//!
//! libav writes no PDF, and a page that is one picture needs very little of the format: each
//! page draws one image XObject holding the JPEG bytes as they are (`/DCTDecode`), at one
//! point per pixel. Pure: bytes in, bytes out.

use std::fmt::Write as _;

/// One page: a baseline JPEG and its size in pixels.
#[derive(Debug, Clone)]
pub struct Page {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// A PDF 1.4 document of `pages`, in order.
pub fn write(pages: &[Page]) -> Vec<u8> {
    // Objects: 1 catalog, 2 page tree, then per page: page, image, content stream.
    let page_id = |i: usize| 3 + 3 * i;
    let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    /// Appends object number `offsets.len() + 1`, with a stream when `stream` is not empty.
    fn object(out: &mut Vec<u8>, offsets: &mut Vec<usize>, head: &str, stream: &[u8]) {
        offsets.push(out.len());
        let id = offsets.len();
        out.extend_from_slice(format!("{id} 0 obj\n{head}").as_bytes());
        if !stream.is_empty() {
            out.extend_from_slice(b"\nstream\n");
            out.extend_from_slice(stream);
            out.extend_from_slice(b"\nendstream");
        }
        out.extend_from_slice(b"\nendobj\n");
    }
    object(
        &mut out,
        &mut offsets,
        "<< /Type /Catalog /Pages 2 0 R >>",
        &[],
    );
    let kids = (0..pages.len()).fold(String::new(), |mut s, i| {
        let _ = write!(s, "{} 0 R ", page_id(i));
        s
    });
    object(
        &mut out,
        &mut offsets,
        &format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.trim_end(),
            pages.len()
        ),
        &[],
    );
    for (i, page) in pages.iter().enumerate() {
        let (w, h) = (page.width.max(1), page.height.max(1));
        let (image, contents) = (page_id(i) + 1, page_id(i) + 2);
        object(
            &mut out,
            &mut offsets,
            &format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w} {h}] \
                 /Resources << /XObject << /Im0 {image} 0 R >> >> /Contents {contents} 0 R >>"
            ),
            &[],
        );
        object(
            &mut out,
            &mut offsets,
            &format!(
                "<< /Type /XObject /Subtype /Image /Width {w} /Height {h} \
                 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode /Length {} >>",
                page.jpeg.len()
            ),
            &page.jpeg,
        );
        let draw = format!("q {w} 0 0 {h} 0 0 cm /Im0 Do Q");
        object(
            &mut out,
            &mut offsets,
            &format!("<< /Length {} >>", draw.len()),
            draw.as_bytes(),
        );
    }
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1);
    for offset in &offsets {
        let _ = writeln!(table, "{offset:010} 00000 n ");
    }
    let _ = write!(
        table,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        offsets.len() + 1
    );
    out.extend_from_slice(table.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every cross-reference entry points at the start of its object.
    #[test]
    fn the_cross_reference_table_points_at_every_object() {
        let page = |n: u8| Page {
            jpeg: vec![0xFF, 0xD8, n, 0xFF, 0xD9],
            width: 40,
            height: 30,
        };
        let pdf = write(&[page(1), page(2)]);
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.starts_with("%PDF-1.4"));
        assert!(text.contains("/Count 2"));
        assert_eq!(text.matches("/Type /Page ").count(), 2);
        // Offsets are in bytes: read the table from the bytes, not the lossy text.
        let tail = String::from_utf8(pdf[pdf.len() - 40..].to_vec()).unwrap();
        let start: usize = tail
            .rsplit("startxref\n")
            .next()
            .and_then(|t| t.lines().next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        let table = String::from_utf8(pdf[start..].to_vec()).unwrap();
        assert!(table.starts_with("xref\n0 9\n"), "{table}");
        for (id, line) in table.lines().skip(3).take(8).enumerate() {
            let offset: usize = line[..10].parse().unwrap();
            let head = format!("{} 0 obj", id + 1);
            assert!(
                pdf[offset..].starts_with(head.as_bytes()),
                "object {}",
                id + 1
            );
        }
        assert!(text.ends_with("%%EOF\n"));
    }
}
