//! Just enough TIFF/EXIF to read and re-write the orientation tag.

use serde::{Deserialize, Serialize};

const ORIENTATION_TAG: u16 = 0x0112;
const TYPE_SHORT: u16 = 3;

/// How the stored pixels must be transformed for display (the EXIF orientation tag).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Orientation {
    /// 1: as stored.
    #[default]
    Normal,
    /// 2: mirrored left-right.
    FlipHorizontal,
    /// 3: upside down.
    Rotate180,
    /// 4: mirrored top-bottom.
    FlipVertical,
    /// 5: mirrored along the main diagonal.
    Transpose,
    /// 6: rotate 90 degrees clockwise to display.
    Rotate90,
    /// 7: mirrored along the anti-diagonal.
    Transverse,
    /// 8: rotate 270 degrees clockwise (90 counter-clockwise) to display.
    Rotate270,
}

impl Orientation {
    /// From the EXIF value 1..=8.
    pub const fn from_exif(value: u16) -> Option<Self> {
        Some(match value {
            1 => Self::Normal,
            2 => Self::FlipHorizontal,
            3 => Self::Rotate180,
            4 => Self::FlipVertical,
            5 => Self::Transpose,
            6 => Self::Rotate90,
            7 => Self::Transverse,
            8 => Self::Rotate270,
            _ => return None,
        })
    }

    /// The EXIF value 1..=8.
    pub const fn exif_value(self) -> u16 {
        match self {
            Self::Normal => 1,
            Self::FlipHorizontal => 2,
            Self::Rotate180 => 3,
            Self::FlipVertical => 4,
            Self::Transpose => 5,
            Self::Rotate90 => 6,
            Self::Transverse => 7,
            Self::Rotate270 => 8,
        }
    }

    /// Whether displaying the image swaps width and height.
    pub const fn swaps_axes(self) -> bool {
        matches!(
            self,
            Self::Transpose | Self::Rotate90 | Self::Transverse | Self::Rotate270
        )
    }

    /// Display dimensions of a stored `width` x `height` image.
    pub const fn display_size(self, width: u32, height: u32) -> (u32, u32) {
        if self.swaps_axes() {
            (height, width)
        } else {
            (width, height)
        }
    }
}

/// The orientation tag of a TIFF structure (the body of an EXIF block after `Exif\0\0`), or
/// `None` when absent, malformed or out of range.
pub(crate) fn orientation(tiff: &[u8]) -> Option<Orientation> {
    let big_endian = match tiff.get(..4)? {
        [b'I', b'I', 42, 0] => false,
        [b'M', b'M', 0, 42] => true,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b = tiff.get(at..at.checked_add(2)?)?;
        let pair = [b[0], b[1]];
        Some(if big_endian {
            u16::from_be_bytes(pair)
        } else {
            u16::from_le_bytes(pair)
        })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b = tiff.get(at..at.checked_add(4)?)?;
        let quad = [b[0], b[1], b[2], b[3]];
        Some(if big_endian {
            u32::from_be_bytes(quad)
        } else {
            u32::from_le_bytes(quad)
        })
    };
    let ifd = usize::try_from(u32_at(4)?).ok()?;
    let entries = usize::from(u16_at(ifd)?);
    for i in 0..entries {
        let entry = ifd.checked_add(2)?.checked_add(i.checked_mul(12)?)?;
        if u16_at(entry)? == ORIENTATION_TAG {
            if u16_at(entry + 2)? != TYPE_SHORT || u32_at(entry + 4)? != 1 {
                return None;
            }
            return Orientation::from_exif(u16_at(entry + 8)?);
        }
    }
    None
}

/// A minimal little-endian TIFF structure carrying only the orientation tag.
pub(crate) fn minimal_tiff(orientation: Orientation) -> Vec<u8> {
    let mut t = Vec::with_capacity(26);
    t.extend_from_slice(b"II");
    t.extend_from_slice(&42u16.to_le_bytes());
    t.extend_from_slice(&8u32.to_le_bytes()); // IFD0 right after the header
    t.extend_from_slice(&1u16.to_le_bytes()); // one entry
    t.extend_from_slice(&ORIENTATION_TAG.to_le_bytes());
    t.extend_from_slice(&TYPE_SHORT.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes()); // count
    t.extend_from_slice(&orientation.exif_value().to_le_bytes());
    t.extend_from_slice(&[0, 0]); // value padding to four bytes
    t.extend_from_slice(&0u32.to_le_bytes()); // no next IFD
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_every_orientation() {
        for v in 1..=8 {
            let o = Orientation::from_exif(v).unwrap();
            assert_eq!(o.exif_value(), v);
            assert_eq!(orientation(&minimal_tiff(o)), Some(o));
        }
        assert_eq!(Orientation::from_exif(0), None);
        assert_eq!(Orientation::from_exif(9), None);
    }

    #[test]
    fn big_endian_with_other_tags() {
        // MM, IFD at 8, two entries: ImageWidth (0x0100) then Orientation = 6.
        let mut t = vec![b'M', b'M', 0, 42, 0, 0, 0, 8, 0, 2];
        t.extend_from_slice(&[0x01, 0x00, 0, 3, 0, 0, 0, 1, 0x04, 0x00, 0, 0]);
        t.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]);
        t.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(orientation(&t), Some(Orientation::Rotate90));
        assert!(Orientation::Rotate90.swaps_axes());
        assert_eq!(Orientation::Rotate90.display_size(4000, 3000), (3000, 4000));
    }

    #[test]
    fn malformed_is_none() {
        assert_eq!(orientation(b""), None);
        assert_eq!(orientation(b"II*\0\xff\xff\xff\xff"), None);
        assert_eq!(orientation(b"II*\0\x08\0\0\0\xff\xff"), None);
        let mut bad_value = minimal_tiff(Orientation::Normal);
        bad_value[18] = 9;
        assert_eq!(orientation(&bad_value), None);
    }
}
