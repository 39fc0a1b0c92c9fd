//! Any byte string through intake (sniff, container walk, bomb guard, strip) and through the
//! full quality check. Panics, aborts, hangs and out-of-memory are failures; typed errors are
//! expected. Pixel limits are lowered so a mutated header cannot make every run decode a
//! 100-megapixel image (the limit logic itself is the same).
#![no_main]

use std::cell::RefCell;

use kyc_docs::{Checker, Limits, QualityConfig, UploadBuffer, intake};
use libfuzzer_sys::fuzz_target;

fn limits() -> Limits {
    Limits {
        max_pixels: 4_000_000,
        max_side: 4_000,
        max_decode_bytes: 64 * 1024 * 1024,
        ..Limits::default()
    }
}

thread_local! {
    static CHECKER: RefCell<Checker> = RefCell::new(Checker::new(QualityConfig {
        limits: limits(),
        ..QualityConfig::default()
    }));
}

fuzz_target!(|data: &[u8]| {
    let limits = limits();
    let mut upload = UploadBuffer::new(&limits);
    let streamed = data.chunks(4096).all(|c| upload.push(c).is_ok());
    if streamed {
        let _ = upload.finish();
    }
    if let Ok(accepted) = intake(data, &limits) {
        // Stripping must produce a file intake accepts again, with the same shape.
        let again = intake(&accepted.stripped, &limits).expect("stripped file re-accepted");
        assert_eq!((again.width, again.height), (accepted.width, accepted.height));
        assert_eq!(again.orientation, accepted.orientation);
        assert_eq!(again.stripped, accepted.stripped, "stripping is idempotent");
    }
    CHECKER.with(|c| {
        let _ = c.borrow_mut().assess(data);
    });
});
