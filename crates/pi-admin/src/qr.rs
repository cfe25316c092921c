//! QR codes as PNG data URIs (the `qr_image_*` WebUI settings of `/auth`).
//!
//! privacyIDEA renders them with segno (`png_data_uri(scale=10)`): a 1-bit
//! PNG, 10 pixels per module, a 4-module quiet zone. This writes the same
//! kind of image; the bytes differ (encoder details), the picture decodes to
//! the same URL.

use base64::Engine;
use flate2::write::ZlibEncoder;
use qrcode::{Color, QrCode};
use std::io::Write;

const SCALE: usize = 10;
const BORDER: usize = 4;

/// `data:image/png;base64,…` of the QR code of `data`; `None` when the data
/// does not fit a QR code.
pub fn png_data_uri(data: &str) -> Option<String> {
    let code = QrCode::new(data.as_bytes()).ok()?;
    let width = code.width();
    let colors = code.to_colors();
    let side = (width + 2 * BORDER) * SCALE;
    let row_bytes = side.div_ceil(8);
    let mut raw = Vec::with_capacity((row_bytes + 1) * side);
    for y in 0..side {
        raw.push(0u8); // filter type: none
        let my = (y / SCALE).checked_sub(BORDER).filter(|&m| m < width);
        let mut row = vec![0xffu8; row_bytes];
        if let Some(my) = my {
            for x in 0..side {
                let dark = (x / SCALE)
                    .checked_sub(BORDER)
                    .filter(|&mx| mx < width)
                    .is_some_and(|mx| colors[my * width + mx] == Color::Dark);
                if dark {
                    row[x / 8] &= !(0x80 >> (x % 8));
                }
            }
        }
        raw.extend_from_slice(&row);
    }
    let mut z = ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&raw).ok()?;
    let idat = z.finish().ok()?;
    let side = u32::try_from(side).ok()?;
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&[1, 0, 0, 0, 0]); // 1-bit greyscale
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &idat);
    chunk(&mut png, b"IEND", &[]);
    Some(format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    ))
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_is_well_formed() {
        let uri = png_data_uri("https://example.org/app").unwrap();
        let b64 = uri.strip_prefix("data:image/png;base64,").unwrap();
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        // 25 modules (version 2) + 8 border, 10 px each.
        let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
        assert_eq!(w % 10, 0);
        assert!(w >= 290);
        assert_eq!(&png[png.len() - 8..png.len() - 4], b"IEND");
    }
}
