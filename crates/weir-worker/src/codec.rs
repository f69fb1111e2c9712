//! Decoding with panics caught: a `Decode` impl that panics on a body makes that
//! message undecodable (dead-lettered with the panic as its reason), instead of losing
//! the poller and the rest of its batch.

use std::panic::AssertUnwindSafe;

use weir_sqs::codec::{Decode, DecodeError};
use weir_sqs::error::{CodecError, CodecErrorKind};

use crate::context::panic_message;

/// A codec whose panics become decode errors.
pub(crate) struct Guarded<C>(pub(crate) C);

impl<T, C: Decode<T>> Decode<T> for Guarded<C> {
    fn decode(&self, body: &str) -> Result<T, DecodeError> {
        self.decode_tagged(body, None)
    }

    fn decode_tagged(&self, body: &str, tag: Option<&str>) -> Result<T, DecodeError> {
        std::panic::catch_unwind(AssertUnwindSafe(|| self.0.decode_tagged(body, tag)))
            .unwrap_or_else(|panic| {
                Err(CodecError::msg(
                    CodecErrorKind::Decode,
                    std::any::type_name::<C>(),
                    format!("the decoder panicked: {}", panic_message(&*panic)),
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Panics;
    impl Decode<u8> for Panics {
        fn decode(&self, _body: &str) -> Result<u8, DecodeError> {
            panic!("bad decoder")
        }
    }

    #[test]
    fn a_panic_is_a_decode_error() {
        let e = Guarded(Panics).decode("x").unwrap_err();
        assert!(e.to_string().contains("bad decoder"), "{e}");
        assert_eq!(Guarded(weir_sqs::Json).decode("7").ok(), Some(7u8));
    }
}
